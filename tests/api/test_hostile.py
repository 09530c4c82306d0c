"""Hostile input, one table per area: each request gets its documented error.

Every row is ``request -> status + code (+ a word of the message)``; JSON endpoints
answer ``{"code", "message"}``, OGC endpoints an exception report with the standard
code and locator. After the tables the server still serves and what was written
before them (a job, an uploaded file) is intact. A last test holds slow clients
(byte-by-byte, never-finishing bodies) against a real uvicorn server.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
import socket
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import httpx
import pytest
from starlette.testclient import TestClient

from ondemand.settings import Settings
from services import create_app
from tests.support.live import live_server
from tests.support.seed import use_case_1_job

MAX_BODY = 256 * 1024
MAX_FILE = 4096
QUOTA = 6000
OWS11 = "{http://www.opengis.net/ows/1.1}"
OWS20 = "{http://www.opengis.net/ows/2.0}"
SE = "{http://www.opengis.net/ogc}"
PAYLOAD = bytes(range(256)) * 8  # 2048 bytes written before the tables


class Answer(Protocol):
    """A response of the TestClient or of httpx (the two are distinct types)."""

    @property
    def status_code(self) -> int: ...

    @property
    def text(self) -> str: ...

    @property
    def content(self) -> bytes: ...

    def json(self) -> Any: ...


def _graph() -> dict[str, Any]:
    return copy.deepcopy(use_case_1_job()["process_graph"])


def _collection() -> dict[str, Any]:
    return {"product_id": "S2_L2A_T32TPS_20M"}


def _bbox(**args: Any) -> dict[str, Any]:
    base = {"left": 652000, "right": 672000, "top": 5181000, "bottom": 5161000,
            "srs": "EPSG:32632"}
    return {"process_id": "filter_bbox", "args": {"imagery": _collection(), **base, **args}}


def _dates(start: Any, end: Any) -> dict[str, Any]:
    return {"process_id": "filter_daterange",
            "args": {"imagery": _collection(), "from": start, "to": end}}


def _expression(text: str) -> dict[str, Any]:
    return {"process_id": "band_math", "args": {"imagery": _collection(), "expression": text}}


def _nested(levels: int) -> dict[str, Any]:
    doc: dict[str, Any] = _collection()
    for _ in range(levels):
        doc = {"process_id": "max_time", "args": {"imagery": doc}}
    return doc


def _flat_chain(count: int) -> dict[str, Any]:
    nodes: dict[str, Any] = {"n0": {"process_id": "load_collection",
                                    "arguments": {"id": "S2_L2A_T32TPS_20M"}}}
    for i in range(1, count):
        nodes[f"n{i}"] = {"process_id": "filter_bands",
                          "arguments": {"data": {"from_node": f"n{i - 1}"}, "bands": ["B04"]}}
    nodes[f"n{count - 1}"]["result"] = True
    return nodes


def _ndvi_node(source: str, result: bool = False) -> dict[str, Any]:
    return {"process_id": "ndvi", "result": result,
            "arguments": {"data": {"from_node": source}, "red": "B04", "nir": "B8A"}}


def _body(graph: Any, **extra: Any) -> bytes:
    return json.dumps({"process_graph": graph, **extra}).encode()


@pytest.fixture(scope="module")
def api(demo_data_dir: Path) -> Iterator[TestClient]:
    """The demo app with small body and file limits; server errors come back as 500s."""
    settings = Settings(data_dir=demo_data_dir, demo=True, max_body_bytes=MAX_BODY,
                        max_file_bytes=MAX_FILE, user_quota_bytes=QUOTA)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client


@dataclass(frozen=True)
class Written:
    """What was stored before the hostile tables ran."""

    job_id: str
    job: dict[str, Any]
    file_path: str
    xyz: str
    wmts: str
    wcs: str
    layer: str
    coverage: str


@pytest.fixture(scope="module")
def written(api: TestClient) -> Iterator[Written]:
    """A job (published as XYZ, WMTS and WCS) and an uploaded file, then their cleanup."""
    job = api.post("/jobs", json={"process_graph": _graph()["args"]["imagery"],
                                  "title": "hostile"})
    assert job.status_code == 200, job.text
    job_id = job.json()["job_id"]
    services = {}
    for kind in ("xyz", "wmts", "wcs"):
        made = api.post("/services", json={"job_id": job_id, "type": kind})
        assert made.status_code == 200, made.text
        services[kind] = f"/services/{made.json()['service_id']}"
    caps = api.get(services["wcs"] + "/wcs?SERVICE=WCS&REQUEST=GetCapabilities&VERSION=2.0.1")
    match = re.search(r"<wcs:CoverageId>(.*?)</wcs:CoverageId>", caps.text)
    assert match is not None, caps.text
    path = "hostile/kept.bin"
    assert api.put(f"/files/me/{path}", content=PAYLOAD).status_code == 204
    yield Written(job_id, api.get(f"/jobs/{job_id}").json(), path, services["xyz"],
                  services["wmts"], services["wcs"], job_id, match.group(1))
    api.delete(f"/files/me/{path}")
    api.delete(f"/jobs/{job_id}")


def _json_error(response: Answer, status: int, code: int | str, word: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"code", "message"}, body
    assert body["code"] == code, body
    assert word.lower() in body["message"].lower(), body


# --------------------------------------------------------------------------- graphs

BOTH = ("/jobs/execute", "/process_graphs/validate", "/jobs")
EXECUTE = ("/jobs/execute", "/jobs")

GRAPH_CASES: list[tuple[str, bytes, int, int, str, tuple[str, ...]]] = [
    ("malformed", b'{"process_graph": {', 400, 2002, "not valid JSON", BOTH),
    ("not-utf8", b"\xff\xfe{}", 400, 2002, "not valid JSON", BOTH),
    ("nan", b'{"process_graph": {"process_id": "max_time", "args": {"x": NaN}}}', 400, 2103,
     "NaN", BOTH),
    ("infinity", b'{"process_graph": -Infinity}', 400, 2103, "Infinity", BOTH),
    ("float-overflow", b'{"process_graph": 1e999}', 400, 2103, "out of range", BOTH),
    ("int-5000-digits", b'{"process_graph": ' + b"9" * 5000 + b"}", 400, 2002, "digits", BOTH),
    ("int-beyond-float", _body(_bbox(left=10**400)), 400, 2103, "too large", BOTH),
    ("deep-json", b'{"process_graph": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", 400, 2002,
     "deeply", BOTH),
    ("deep-graph", _body(_nested(100)), 400, 2002, "deeper than 64", BOTH),
    ("deep-argument", _body(_bbox(left=json.loads("[" * 80 + "]" * 80))), 400, 2002,
     "nested deeper", BOTH),
    ("too-many-nodes", _body(_flat_chain(250)), 400, 2002, "more than 200 nodes", BOTH),
    ("cycle", _body({"a": _ndvi_node("b"), "b": _ndvi_node("a", result=True)}), 400, 2002,
     "cycle", BOTH),
    ("self-reference", _body({"a": _ndvi_node("a", result=True)}), 400, 2002, "itself", BOTH),
    ("dangling-reference", _body({"a": _ndvi_node("zz", result=True)}), 400, 2002,
     "unknown node", BOTH),
    ("no-result-node", _body({"a": _ndvi_node("zz")}), 400, 2002, "result", BOTH),
    ("empty-graph", _body({}), 400, 2001, "no process graph", BOTH),
    ("no-graph", b"{}", 400, 2001, "no process graph", BOTH),
    ("empty-body", b"", 400, 2001, "no process graph", BOTH),
    ("graph-is-list", b"[1, 2]", 400, 2001, "no process graph", EXECUTE),
    ("unknown-process", _body({"process_id": "rm_rf", "args": {}}), 400, 2101,
     "not supported", BOTH),
    ("process-id-not-string", _body({"process_id": 5, "args": {}}), 400, 2002,
     "must be a string", BOTH),
    ("args-not-object", _body({"process_id": "max_time", "args": [1]}), 400, 2002,
     "must be an object", BOTH),
    ("unknown-argument", _body({"process_id": "max_time", "args": {
        "imagery": _collection(), "rm": 1}}), 400, 2102, "rm", BOTH),
    ("missing-argument", _body({"process_id": "band_math", "args": {"imagery": _collection()}}),
     400, 2104, "expression", BOTH),
    ("wrong-type", _body(_bbox(left="west")), 400, 2103, "must be a number", BOTH),
    ("unknown-collection", _body({"product_id": "../../etc/passwd"}), 400, 1201, "passwd",
     BOTH),
    ("numexpr-import", _body(_expression("__import__('os').system('true')")), 400, 2103,
     "not allowed", BOTH),
    ("numexpr-attribute", _body(_expression("B04.__class__")), 400, 2103, "not allowed", BOTH),
    ("numexpr-lambda", _body(_expression("(lambda: B04)()")), 400, 2103, "not allowed", BOTH),
    ("numexpr-dunder-name", _body(_expression("__builtins__ + B04")), 400, 2103,
     "not allowed", BOTH),
    ("numexpr-huge-exponent", _body(_expression("B04 ** 99999999")), 400, 2103, "exponent",
     BOTH),
    ("numexpr-tower", _body(_expression("9 ** 9 ** 9")), 400, 2103, "exponent", BOTH),
    ("numexpr-long", _body(_expression("B04 + " * 400 + "B04")), 400, 2103, "longer", BOTH),
    ("numexpr-unparsable", _body(_expression("(" * 300)), 400, 2103, "cannot parse", BOTH),
    ("numexpr-invert-float", _body(_expression("~B04")), 400, 2103, "needs a condition", BOTH),
    ("numexpr-or-floats", _body(_expression("B04 | B8A")), 400, 2103, "B04 | B8A", BOTH),
    ("numexpr-and-literal", _body(_expression("B04 & 1.5")), 400, 2103, "needs a condition",
     BOTH),
    ("numexpr-where-float-condition", _body(_expression("where(B04,B04,1) ** -16")), 400, 2103,
     "needs a condition", BOTH),
    ("numexpr-negate-condition", _body(_expression("-(B04 > 1)")), 400, 2103,
     "needs a number", BOTH),
    ("numexpr-huge-literal", _body(_expression("B04 + " + "9" * 60)), 400, 2103,
     "larger than", BOTH),
    ("crs-unknown-epsg", _body(_bbox(srs="EPSG:999999")), 400, 601, "Invalid CRS", BOTH),
    ("crs-garbage", _body(_bbox(srs="+proj=nothing +no_defs")), 400, 601, "Invalid CRS", BOTH),
    ("crs-not-string", _body(_bbox(srs=["EPSG", 4326])), 400, 2103, "crs", BOTH),
    ("bbox-inverted", _body(_bbox(left=672000, right=652000)), 400, 2103,
     "must be less than east", BOTH),
    ("bbox-empty", _body(_bbox(top=5161000, bottom=5161000)), 400, 2103, "equal", BOTH),
    ("bbox-antimeridian", _body(_bbox(left=170, right=-170, top=10, bottom=0,
                                      srs="EPSG:4326")), 400, 2103, "must be less than east",
     BOTH),
    ("bbox-beyond-poles", _body(_bbox(left=0, right=10, top=95, bottom=0, srs="EPSG:4326")),
     400, 602, "outside", BOTH),
    ("date-invalid-day", _body(_dates("2017-02-30", "2017-03-01")), 400, 2103, "ISO 8601",
     BOTH),
    ("date-garbage", _body(_dates("yesterday", "2017-03-01")), 400, 2103, "ISO 8601", BOTH),
    ("date-inverted", _body(_dates("2018-01-01", "2017-01-01")), 400, 2103, "after", BOTH),
    ("date-open-both", _body(_dates(None, None)), 400, 2103, "null", BOTH),
    ("date-year-10000", _body(_dates("2017-01-01", "10000-01-01")), 400, 2103, "ISO 8601",
     BOTH),
    ("date-not-string", _body(_dates(20170101, "2017-03-01")), 400, 2103, "ISO 8601", BOTH),
    ("output-unknown-format", _body(_graph(), output={"format": "EXE"}), 400, 3001,
     "not supported", EXECUTE),
    ("output-not-object", _body(_graph(), output="GTiff"), 400, 3003, "must be an object",
     EXECUTE),
    ("output-huge-option", _body(_graph(), output={"format": "GTiff",
                                                   "blockxsize": 2**63}), 400, 3003,
     "blockxsize", EXECUTE),
]


@pytest.mark.parametrize(
    ("path", "body", "status", "code", "word"),
    [
        pytest.param(path, body, status, code, word, id=f"{name}@{path}")
        for name, body, status, code, word, paths in GRAPH_CASES
        for path in paths
    ],
)
def test_hostile_graphs(
    api: TestClient, written: Written, path: str, body: bytes, status: int, code: int, word: str
) -> None:
    response = api.post(path, content=body, headers={"content-type": "application/json"})
    _json_error(response, status, code, word)


def test_oversized_body_is_413(api: TestClient, written: Written) -> None:
    padding = " " * (MAX_BODY + 1)
    response = api.post("/jobs/execute", content=b'{"process_graph": 1' + padding.encode() + b"}",
                        headers={"content-type": "application/json"})
    _json_error(response, 413, 413, "over the limit")


def test_lying_content_length_is_413(api: TestClient, written: Written) -> None:
    """A body larger than its declared length never gets buffered past the limit."""

    def chunks() -> Iterator[bytes]:
        yield b'{"process_graph": '
        for _ in range(MAX_BODY // 1024 + 2):
            yield b" " * 1024

    response = api.post("/process_graphs/validate", content=chunks(),
                        headers={"content-type": "application/json"})
    _json_error(response, 413, 413, "over the limit")


# --------------------------------------------------------------------------- tiles

TILE_CASES: list[tuple[str, int, int, str]] = [
    ("/xyz/-1/0/0.png", 400, 10003, "zoom level -1"),
    ("/xyz/40/0/0.png", 400, 10003, "outside"),
    ("/xyz/0/1/0.png", 400, 10003, "column 1"),
    (f"/xyz/0/0/{2**31}.png", 400, 10003, "row 2147483648"),
    (f"/xyz/{2**31}/0/0.png", 400, 10003, "2147483648"),
    (f"/xyz/3/{2**63}/{2**64}.png", 400, 10003, "9223372036854775808"),
    ("/xyz/" + "9" * 5000 + "/0/0.png", 400, 2103, "not an integer"),
    ("/xyz/a/0/0.png", 400, 2103, "not an integer"),
    ("/xyz/0/0/0.gif", 400, 3001, "gif"),
    ("/xyz/0/0/0.png?time=garbage", 400, 2103, "garbage"),
    ("/xyz/0/0/0.png?time=9999-99-99", 400, 2103, "ISO"),
    ("/xyz/0/0/0.png?rescale=nan,inf", 400, 3003, "finite"),
    ("/xyz/0/0/0.png?rescale=1", 400, 3003, "min,max"),
    ("/xyz/0/0/0.png?colormap=../../etc/passwd", 400, 3003, "colormap"),
    ("/xyz/0/0/0.png?bands=%00", 400, 3003, "bands"),
    ("/tiles/../../0/0/0.png", 404, 404, "not found"),
    ("/tiles/NoSuchTMS/0/0/0.png", 400, 2103, "tile matrix set"),
    ("/tiles/WorldCRS84Quad/0/2/0.png", 400, 10003, "column 2"),
    ("/NoSuchTMS/tilejson.json", 400, 2103, "tile matrix set"),
    ("/tilejson.json?time=x", 400, 2103, "Time 'x'"),
]


@pytest.mark.parametrize(("path", "status", "code", "word"), TILE_CASES,
                         ids=[c[0][:40] for c in TILE_CASES])
def test_hostile_tiles(
    api: TestClient, written: Written, path: str, status: int, code: int, word: str
) -> None:
    _json_error(api.get(written.xyz + path), status, code, word)


def test_unknown_service_is_404(api: TestClient, written: Written) -> None:
    _json_error(api.get("/services/" + "0" * 32 + "/xyz/0/0/0.png"), 404, 404, "service")


# --------------------------------------------------------------------------- WMTS KVP and REST


def _ows(response: Answer, status: int, code: str, locator: str | None,
         namespace: str = OWS11) -> None:
    assert response.status_code == status, response.text
    root = ET.fromstring(response.content)
    assert root.tag == f"{namespace}ExceptionReport", response.text
    exception = root.find(f"{namespace}Exception")
    assert exception is not None
    assert exception.get("exceptionCode") == code, response.text
    assert exception.get("locator") == locator, response.text


WMTS_TILE = ("SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER={layer}&STYLE=default"
             "&FORMAT=image/png&TILEMATRIXSET=WebMercatorQuad")
WMTS_CASES: list[tuple[str, int, str, str | None]] = [
    ("REQUEST=GetTile", 400, "MissingParameterValue", "SERVICE"),
    ("SERVICE=WMTS&REQUEST=DropTables", 501, "OperationNotSupported", "REQUEST"),
    ("SERVICE=WMTS&REQUEST=GetCapabilities&ACCEPTVERSIONS=9.9", 400,
     "VersionNegotiationFailed", "ACCEPTVERSIONS"),
    (WMTS_TILE.replace("WMTS&", "WCS&") + "&TILEMATRIX=0&TILEROW=0&TILECOL=0", 400,
     "InvalidParameterValue", "SERVICE"),
    (WMTS_TILE.replace("1.0.0", "2.0") + "&TILEMATRIX=0&TILEROW=0&TILECOL=0", 400,
     "InvalidParameterValue", "VERSION"),
    (WMTS_TILE + "&TILEMATRIX=0&TILEROW=0", 400, "MissingParameterValue", "TILECOL"),
    (WMTS_TILE + f"&TILEMATRIX=0&TILEROW={2**31}&TILECOL=0", 400, "TileOutOfRange", "TILEROW"),
    (WMTS_TILE + "&TILEMATRIX=2&TILEROW=0&TILECOL=4", 400, "TileOutOfRange", "TILECOL"),
    (WMTS_TILE + "&TILEMATRIX=0&TILEROW=-1&TILECOL=0", 400, "InvalidParameterValue",
     "TILEROW"),
    (WMTS_TILE + "&TILEMATRIX=0&TILEROW=" + "9" * 5000 + "&TILECOL=0", 400,
     "InvalidParameterValue", "TILEROW"),
    (WMTS_TILE + "&TILEMATRIX=0&TILEROW=0x1&TILECOL=0", 400, "InvalidParameterValue",
     "TILEROW"),
    (WMTS_TILE + "&TILEMATRIX=99&TILEROW=0&TILECOL=0", 400, "InvalidParameterValue",
     "TILEMATRIX"),
    (WMTS_TILE + "&TILEMATRIX=%C3%28&TILEROW=0&TILECOL=0", 400, "InvalidParameterValue",
     "TILEMATRIX"),
    (WMTS_TILE.replace("WebMercatorQuad", "../../etc") + "&TILEMATRIX=0&TILEROW=0&TILECOL=0",
     400, "InvalidParameterValue", "TILEMATRIXSET"),
    (WMTS_TILE.replace("image/png", "image/gif") + "&TILEMATRIX=0&TILEROW=0&TILECOL=0", 400,
     "InvalidParameterValue", "FORMAT"),
    (WMTS_TILE.replace("default", "<script>") + "&TILEMATRIX=0&TILEROW=0&TILECOL=0", 400,
     "InvalidParameterValue", "STYLE"),
    (WMTS_TILE.replace("LAYER={layer}", "LAYER=other") + "&TILEMATRIX=0&TILEROW=0&TILECOL=0",
     400, "InvalidParameterValue", "LAYER"),
    (WMTS_TILE + "&TILEMATRIX=0&TILEROW=0&TILECOL=0&TIME=garbage", 400,
     "InvalidParameterValue", "TIME"),
    (WMTS_TILE + "&TILEMATRIX=0&TILEROW=0&TILECOL=0&TIME=%00", 400, "InvalidParameterValue",
     "TIME"),
    (WMTS_TILE.replace("GetTile", "GetFeatureInfo")
     + "&TILEMATRIX=0&TILEROW=0&TILECOL=0&INFOFORMAT=application/json&I=256&J=0", 400,
     "PointIJOutOfRange", "I"),
    (WMTS_TILE.replace("GetTile", "GetFeatureInfo")
     + "&TILEMATRIX=0&TILEROW=0&TILECOL=0&INFOFORMAT=text/html&I=0&J=0", 400,
     "InvalidParameterValue", "INFOFORMAT"),
]
WMTS_REST_CASES: list[tuple[str, int, str, str | None]] = [
    ("/tile/1.0.0/{layer}/default/2017-01-04/WebMercatorQuad/0/0/2147483648.png", 400,
     "TileOutOfRange", "TILECOL"),
    ("/tile/1.0.0/{layer}/default/2017-01-04/WebMercatorQuad/0/0/0", 400,
     "InvalidParameterValue", "FORMAT"),
    ("/tile/1.0.0/{layer}/default/x/WebMercatorQuad/0/0/0.png", 400, "InvalidParameterValue",
     "TIME"),
    ("/tile/1.0.0/a/b", 404, "NoApplicableCode", None),
    ("/tile/1.0.0/{layer}/default/2017-01-04/WebMercatorQuad/0/0/0/0/" + "9" * 5000 + ".json",
     400, "InvalidParameterValue", "I"),
    ("/tile/1.0.0/{layer}/default/2017-01-04/WebMercatorQuad/0/0/0/%C2%B2/0.json", 400,
     "InvalidParameterValue", "J"),
    ("/tile/1.0.0/{layer}/default/2017-01-04/WebMercatorQuad/0/0/%D9%A3.png", 400,
     "InvalidParameterValue", "TILECOL"),
]


@pytest.mark.parametrize(("query", "status", "code", "locator"), WMTS_CASES,
                         ids=[f"{c[2]}-{c[3]}-{i}" for i, c in enumerate(WMTS_CASES)])
def test_hostile_wmts_kvp(
    api: TestClient, written: Written, query: str, status: int, code: str, locator: str | None
) -> None:
    url = written.wmts + "/wmts?" + query.replace("{layer}", written.layer)
    _ows(api.get(url), status, code, locator)


@pytest.mark.parametrize(("path", "status", "code", "locator"), WMTS_REST_CASES,
                         ids=[f"{c[2]}-{c[3]}-{i}" for i, c in enumerate(WMTS_REST_CASES)])
def test_hostile_wmts_rest(
    api: TestClient, written: Written, path: str, status: int, code: str, locator: str | None
) -> None:
    url = written.wmts + "/wmts" + path.replace("{layer}", written.layer)
    _ows(api.get(url), status, code, locator)


# --------------------------------------------------------------------------- WCS KVP

WCS20 = "SERVICE=WCS&REQUEST=GetCoverage&VERSION=2.0.1&COVERAGEID={coverage}"
WCS10 = ("SERVICE=WCS&REQUEST=GetCoverage&VERSION=1.0.0&COVERAGE={coverage}&FORMAT=GeoTIFF"
         "&CRS=EPSG:32632")
AREA = "BBOX=652000,5161000,672000,5181000"
WCS_CASES: list[tuple[str, int, str, str | None]] = [
    ("SERVICE=WCS&REQUEST=GetCoverage", 400, "MissingParameterValue", "VERSION"),
    ("SERVICE=WCS&REQUEST=GetCoverage&VERSION=9.9.9", 400, "InvalidParameterValue", "VERSION"),
    ("SERVICE=WMS&REQUEST=GetMap&VERSION=2.0.1", 400, "InvalidParameterValue", "SERVICE"),
    ("SERVICE=WCS&REQUEST=Transaction&VERSION=2.0.1", 501, "OperationNotSupported", "REQUEST"),
    ("SERVICE=WCS&REQUEST=DescribeCoverage&VERSION=2.0.1", 404, "EmptyCoverageIdList",
     "COVERAGEID"),
    ("SERVICE=WCS&REQUEST=GetCoverage&VERSION=2.0.1&COVERAGEID=../../jobs.sqlite", 404,
     "NoSuchCoverage", "COVERAGEID"),
    (WCS20 + "&SUBSET=E(672000,652000)", 404, "InvalidSubsetting", "SUBSET"),
    (WCS20 + "&SUBSET=E(a,b)", 404, "InvalidSubsetting", "SUBSET"),
    (WCS20 + "&SUBSET=E(", 404, "InvalidSubsetting", "SUBSET"),
    (WCS20 + "&SUBSET=E(1e999,2e999)", 404, "InvalidSubsetting", "SUBSET"),
    (WCS20 + "&SUBSET=N(1e300,1e301)", 404, "InvalidSubsetting", "SUBSET"),
    (WCS20 + "&SUBSET=Q(1,2)", 404, "InvalidAxisLabel", "SUBSET"),
    (WCS20 + '&SUBSET=ansi("garbage")', 404, "InvalidSubsetting", "SUBSET"),
    (WCS20 + '&SUBSET=ansi("2017-02-01","2017-01-01")', 404, "InvalidSubsetting", "SUBSET"),
    (WCS20 + "&SCALEFACTOR=0", 404, "InvalidScaleFactor", "SCALE"),
    (WCS20 + "&SCALEFACTOR=nan", 404, "InvalidScaleFactor", "SCALE"),
    (WCS20 + "&SCALESIZE=E(" + "9" * 5000 + ")", 404, "InvalidScaleFactor", "SCALE"),
    (WCS20 + "&SCALESIZE=E(100000000)", 413, "NoApplicableCode", None),
    (WCS20 + "&OUTPUTCRS=EPSG:999999", 501, "OutputCrs-NotSupported", "OUTPUTCRS"),
    (WCS20 + "&SUBSETTINGCRS=not-a-crs", 501, "SubsettingCrs-NotSupported", "SUBSETTINGCRS"),
    (WCS20 + "&FORMAT=application/x-sh", 400, "InvalidParameterValue", "FORMAT"),
    (WCS20 + "&MEDIATYPE=multipart/related", 501, "OptionNotSupported", "MEDIATYPE"),
]
WCS10_CASES: list[tuple[str, int, str, str | None]] = [
    (WCS10 + "&BBOX=672000,5161000,652000,5181000&WIDTH=10&HEIGHT=10", 400,
     "InvalidParameterValue", "BBOX"),
    (WCS10 + "&BBOX=a,b,c,d&WIDTH=10&HEIGHT=10", 400, "InvalidParameterValue", "BBOX"),
    (WCS10 + "&BBOX=nan,0,inf,1&WIDTH=10&HEIGHT=10", 400, "InvalidParameterValue", "BBOX"),
    (WCS10 + "&BBOX=0,0,1e12,1e12&WIDTH=10&HEIGHT=10", 400, "InvalidParameterValue", None),
    (WCS10.replace("32632", "3857") + "&BBOX=0,0,1e12,1e12&WIDTH=10&HEIGHT=10", 400,
     "InvalidParameterValue", None),
    (WCS10.replace("32632", "4326") + "&BBOX=170,0,-170,1&WIDTH=10&HEIGHT=10", 400,
     "InvalidParameterValue", "BBOX"),
    (WCS10 + f"&{AREA}&WIDTH=0&HEIGHT=10", 400, "InvalidParameterValue", "WIDTH"),
    (WCS10 + f"&{AREA}&WIDTH={2**31}&HEIGHT={2**31}", 413, "InvalidParameterValue", "WIDTH"),
    (WCS10 + f"&{AREA}&RESX=nan&RESY=1", 400, "InvalidParameterValue", "RESX"),
    (WCS10 + f"&{AREA}", 400, "MissingParameterValue", "WIDTH"),
    (WCS10 + f"&{AREA}&WIDTH=10&HEIGHT=10&TIME=garbage", 400, "InvalidParameterValue", "TIME"),
    (WCS10 + f"&{AREA}&WIDTH=10&HEIGHT=10&RESPONSE_CRS=EPSG:0", 400, "InvalidParameterValue",
     "RESPONSE_CRS"),
    (WCS10.replace("EPSG:32632", "EPSG:x") + f"&{AREA}&WIDTH=10&HEIGHT=10", 400,
     "InvalidParameterValue", "CRS"),
    (WCS10.replace("GeoTIFF", "text/x-sh") + f"&{AREA}&WIDTH=10&HEIGHT=10", 400,
     "InvalidFormat", "FORMAT"),
    (WCS10.replace("{coverage}", "nope") + f"&{AREA}&WIDTH=10&HEIGHT=10", 404,
     "CoverageNotDefined", "COVERAGE"),
]


@pytest.mark.parametrize(("query", "status", "code", "locator"), WCS_CASES,
                         ids=[f"{c[2]}-{i}" for i, c in enumerate(WCS_CASES)])
def test_hostile_wcs20(
    api: TestClient, written: Written, query: str, status: int, code: str, locator: str | None
) -> None:
    url = written.wcs + "/wcs?" + query.replace("{coverage}", written.coverage)
    _ows(api.get(url), status, code, locator, OWS20)


@pytest.mark.parametrize(("query", "status", "code", "locator"), WCS10_CASES,
                         ids=[f"{c[2]}-{i}" for i, c in enumerate(WCS10_CASES)])
def test_hostile_wcs10(
    api: TestClient, written: Written, query: str, status: int, code: str, locator: str | None
) -> None:
    response = api.get(written.wcs + "/wcs?" + query.replace("{coverage}", written.coverage))
    assert response.status_code == status, response.text
    root = ET.fromstring(response.content)
    assert root.tag == f"{SE}ServiceExceptionReport", response.text
    exception = root.find(f"{SE}ServiceException")
    assert exception is not None
    assert (exception.get("code"), exception.get("locator")) == (code, locator), response.text


# --------------------------------------------------------------------------- files and names

FILE_CASES: list[tuple[str, str, bytes, int, int, str]] = [
    ("PUT", "/files/me/%2E%2E/escape.bin", b"x", 400, 1400, "'..'"),
    ("PUT", "/files/me/a/%2E%2E/%2E%2E/escape.bin", b"x", 400, 1400, "'..'"),
    ("PUT", "/files/me/..%5C..%5Cescape.bin", b"x", 400, 1400, "backslash"),
    ("PUT", "/files/me//etc/passwd", b"x", 400, 1400, "absolute"),
    ("PUT", "/files/me/C:/windows.bin", b"x", 400, 1400, "absolute"),
    ("PUT", "/files/me/nul%00byte.bin", b"x", 400, 1400, "NUL"),
    ("PUT", "/files/me/line%0Abreak.bin", b"x", 400, 1400, "control"),
    ("PUT", "/files/me/.hidden", b"x", 400, 1400, "dot"),
    ("PUT", "/files/me/" + "a" * 300, b"x", 400, 1400, "longer"),
    ("PUT", "/files/me/" + "a/" * 600 + "b", b"x", 400, 1400, "longer"),
    ("PUT", "/files/me/hostile/kept.bin/child", b"x", 400, 1400, "file"),
    ("PUT", "/files/me/hostile", b"x", 400, 1400, "folder"),
    ("PUT", "/files/me/hostile/big.bin", b"x" * (MAX_FILE + 1), 413, 1411, "limit"),
    ("PUT", "/files/me/hostile/quota.bin", b"x" * MAX_FILE, 413, 507, "quota"),
    ("PUT", "/files/..%2F..%2Fetc/x", b"x", 404, 404, "user '..'"),
    ("PUT", "/files/bob/x.bin", b"x", 404, 404, "bob"),
    ("GET", "/files/bob", b"", 404, 404, "bob"),
    ("GET", "/files/me/%2E%2E/%2E%2E/jobs.sqlite", b"", 400, 1400, "'..'"),
    ("GET", "/files/me/hostile/missing.bin", b"", 404, 404, "does not exist"),
    ("DELETE", "/files/me/%2E%2E/tokens.sqlite", b"", 400, 1400, "'..'"),
    ("GET", "/jobs/{job}/on_demand/result.exe", b"", 400, 3003, "exe"),
    ("GET", "/jobs/{job}/results/jobs.sqlite", b"", 400, 428, "batch"),
    ("GET", "/jobs/{job}/results/..%2F..%2Fjobs.sqlite", b"", 404, 404, "not found"),
    ("GET", "/jobs/..%2F..%2Fjobs.sqlite", b"", 404, 404, "not found"),
    ("GET", "/jobs/" + "0" * 5000, b"", 404, 404, "does not exist"),
]


@pytest.mark.parametrize(("method", "path", "content", "status", "code", "word"), FILE_CASES,
                         ids=[f"{c[0]}-{c[4]}-{i}" for i, c in enumerate(FILE_CASES)])
def test_hostile_files_and_names(
    api: TestClient, written: Written, method: str, path: str, content: bytes, status: int,
    code: int, word: str,
) -> None:
    url = path.replace("{job}", written.job_id)
    response = api.request(method, url, content=content or None)
    _json_error(response, status, code, word)
    assert not (Path(api.app.state.ondemand.settings.data_dir)  # type: ignore[attr-defined]
                / "escape.bin").exists()


# --------------------------------------------------------------------------- after the tables


def test_server_still_serves_and_data_is_intact(api: TestClient, written: Written) -> None:
    """Runs after the tables (file order): normal requests work, nothing written was lost."""
    assert api.get("/").status_code == 200
    assert api.post("/process_graphs/validate", json={"process_graph": _graph()}
                    ).status_code == 204
    job = api.get(f"/jobs/{written.job_id}")
    assert job.status_code == 200
    assert job.json()["process_graph"] == written.job["process_graph"]
    assert job.json()["title"] == "hostile"
    stored = api.get(f"/files/me/{written.file_path}")
    assert stored.status_code == 200
    assert hashlib.sha256(stored.content).digest() == hashlib.sha256(PAYLOAD).digest()
    assert [e["name"] for e in api.get("/files/me").json() if e["name"].startswith("hostile/")
            ] == [written.file_path]
    tile = api.get(written.xyz + "/xyz/0/0/0.png")
    assert tile.status_code == 200 and tile.content.startswith(b"\x89PNG")
    assert api.app.state.ondemand.gate.admitted == 0  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- slow clients




@pytest.fixture(scope="module")
def server(demo_data_dir: Path) -> Iterator[str]:
    """A real uvicorn server on 127.0.0.1 with the timeouts ``ondemand serve`` uses."""
    with live_server(Settings(data_dir=demo_data_dir, demo=True)) as url:
        yield url


def _slow_socket(base: str, request: bytes) -> socket.socket:
    host, port = base.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=5)
    sock.sendall(request)
    return sock


def test_double_encoded_traversal_is_refused(server: str) -> None:
    """``%252E%252E`` reaches the app as ``%2E%2E``: refused as still URL-encoded."""
    with httpx.Client(base_url=server, timeout=10) as client:
        response = client.put("/files/me/%252E%252E/escape.bin", content=b"x")
    _json_error(response, 400, 1400, "URL-encoded")


def test_slow_clients_do_not_block_others(
    server: str, demo_data_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Clients that trickle headers or a body, or never finish, leave others served."""
    data_dir = demo_data_dir
    host = server.removeprefix("http://")
    stalled = [
        # headers never finished
        _slow_socket(server, f"POST /jobs/execute HTTP/1.1\r\nHost: {host}\r\n".encode()),
        # a body announced but never sent
        _slow_socket(server, (f"POST /process_graphs/validate HTTP/1.1\r\nHost: {host}\r\n"
                              "Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n"
                              '{"process_graph": ').encode()),
        # an upload trickling in
        _slow_socket(server, (f"PUT /files/me/hostile/slow.bin HTTP/1.1\r\nHost: {host}\r\n"
                              "Content-Length: 100000\r\n\r\n").encode()),
    ]
    try:
        with httpx.Client(base_url=server, timeout=5) as client:  # blocked = timeout
            for _ in range(6):
                stalled[2].sendall(b"x")  # one byte per round: a slow, live upload
                assert client.get("/processes").status_code == 200
                body = {"process_graph": _graph()}
                assert client.post("/process_graphs/validate", json=body).status_code == 204
                time.sleep(0.2)
    finally:
        for sock in stalled:
            sock.close()
    # The broken-off upload is dropped: no file, no temporary file left behind.
    folder = data_dir / "files" / "local" / "hostile"
    deadline = time.monotonic() + 5
    while folder.is_dir() and any(p.name.startswith(".upload-") for p in folder.iterdir()):
        assert time.monotonic() < deadline, list(folder.iterdir())
        time.sleep(0.05)
    with httpx.Client(base_url=server, timeout=10) as client:
        listing = client.get("/files/me").json()
    assert "hostile/slow.bin" not in [e["name"] for e in listing]
    assert not [r for r in caplog.records if "unhandled" in r.getMessage()]
