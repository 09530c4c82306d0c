"""WMTS over HTTP with clients nobody here wrote (OWSLib, GDAL) against a real server.

A uvicorn server on 127.0.0.1 serves the demo catalog; the draft's use case 1 job
(min NDVI, no time axis) and its NDVI time series are published as WMTS services.
Pixels are checked against ``Engine.evaluate`` on the same tile window.
"""

from __future__ import annotations

import copy
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import rasterio
from owslib.wmts import WebMapTileService
from rasterio.io import MemoryFile

from ondemand.catalog import Catalog
from ondemand.cube import Cube
from ondemand.engine import CACHED, Engine
from ondemand.layer import Layer, make_layer
from ondemand.settings import Settings
from ondemand.tms import native_tms, tile_matrix_set, tile_window
from tests.support.live import live_server
from tests.support.seed import use_case_1_job

OGC = Path(__file__).resolve().parents[2].parent / "shared" / "ogc"
OWS = "{http://www.opengis.net/ows/1.1}"
NATIVE = "UTM32N-20m"




@pytest.fixture(scope="module")
def base_url(demo_data_dir: Path) -> Iterator[str]:
    """A real server on 127.0.0.1 (GDAL and OWSLib need sockets), stopped afterwards."""
    with live_server(Settings(data_dir=demo_data_dir, demo=True)) as url:
        yield url


@dataclass(frozen=True)
class Published:
    service_url: str
    layer: Layer
    """The same job compiled here, for independent evaluation."""


def _graphs() -> dict[str, Any]:
    minimum = use_case_1_job()["process_graph"]
    return {"min": minimum, "series": copy.deepcopy(minimum["args"]["imagery"])}


@pytest.fixture(scope="module")
def engine(demo_catalog: Catalog) -> Iterator[Engine]:
    eng = Engine(demo_catalog, Settings())
    yield eng
    eng.close()


def _publish(http: httpx.Client, graph: Any, title: str, kind: str = "wmts") -> tuple[str, str]:
    job = http.post("/jobs", json={"process_graph": graph, "title": title})
    assert job.status_code == 200, job.text
    job_id = job.json()["job_id"]
    assert http.post(f"/jobs/{job_id}/on_demand").status_code == 204
    service = http.post("/services", json={"job_id": job_id, "type": kind, "args": {}})
    assert service.status_code == 200, service.text
    return job_id, service.json()["service_url"]


@pytest.fixture(scope="module")
def http(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=60) as client:
        yield client


@pytest.fixture(scope="module")
def published(http: httpx.Client, engine: Engine) -> dict[str, Published]:
    out: dict[str, Published] = {}
    for name, graph in _graphs().items():
        job_id, url = _publish(http, graph, f"NDVI {name}")
        out[name] = Published(url, make_layer(job_id, name, engine.compile(graph)))
    return out


@pytest.fixture(scope="module")
def schema_errors():  # type: ignore[no-untyped-def]
    if not (OGC / "validate.py").is_file():
        pytest.skip(f"the OGC schemas are not at {OGC} (they ship beside the repo)")
    sys.path.insert(0, str(OGC))
    from validate import errors

    return errors


def expected(engine: Engine, layer: Layer, tms_id: str, z: int, col: int, row: int,
             when: str | None = None) -> np.ma.MaskedArray:
    """Independent: the layer evaluated on the tile's window, band 1 of the tile's date."""
    window = tile_window(tile_matrix_set(layer, tms_id), z, col, row, layer.select_time(when))
    cube = engine.evaluate(layer.compiled, window, policy=CACHED)
    assert isinstance(cube, Cube)
    data: np.ma.MaskedArray = np.ma.masked_invalid(cube.data[-1, 0])
    return data


# --- capabilities -------------------------------------------------------------------------


def test_owslib_parses_capabilities(published: dict[str, Published]) -> None:
    series = published["series"]
    wmts = WebMapTileService(series.service_url)
    assert wmts.identification.type == "OGC WMTS"
    layer = wmts.contents[series.layer.id]
    assert set(layer.tilematrixsetlinks) == {"WebMercatorQuad", "WorldCRS84Quad", NATIVE}
    assert layer.dimensions["Time"]["values"] == ["2017-01-04", "2017-01-14", "2017-01-24"]
    assert layer.dimensions["Time"]["default"] == "2017-01-24"
    assert "viridis" in layer.styles and layer.styles["default"]["isDefault"]
    assert set(wmts.tilematrixsets) == {"WebMercatorQuad", "WorldCRS84Quad", NATIVE}
    native = wmts.tilematrixsets[NATIVE]
    assert native.crs == "urn:ogc:def:crs:EPSG::32632"
    assert native.tilematrix["2"].topleftcorner == (652000.0, 5181000.0)
    limits = layer.tilematrixsetlinks["WebMercatorQuad"].tilematrixlimits["12"]
    assert (limits.mintilecol, limits.maxtilecol) == (2172, 2176)


@pytest.mark.parametrize(
    "query",
    [
        pytest.param("?SERVICE=WMTS&REQUEST=GetCapabilities", id="kvp"),
        pytest.param("?service=wmts&request=GetCapabilities&version=1.0.0", id="lower-names"),
        pytest.param("?SERVICE=WMS&REQUEST=GetCapabilities", id="qgis-probes-wms"),
        pytest.param("?REQUEST=GetCapabilities", id="no-service"),
        pytest.param("", id="bare-url"),
        pytest.param("/1.0.0/WMTSCapabilities.xml", id="rest"),
    ],
)
def test_capabilities_forms(
    http: httpx.Client, published: dict[str, Published], schema_errors, query: str  # type: ignore[no-untyped-def]
) -> None:
    response = http.get(published["min"].service_url + query)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/xml")
    assert schema_errors("wmts", response.content) == []
    assert f"<ows:Identifier>{published['min'].layer.id}</ows:Identifier>" in response.text


# --- tiles --------------------------------------------------------------------------------


def test_owslib_kvp_and_rest_tiles_agree_and_alpha_is_the_mask(
    http: httpx.Client, published: dict[str, Published], engine: Engine
) -> None:
    series = published["series"]
    wmts = WebMapTileService(series.service_url)
    args = {"layer": series.layer.id, "style": "default", "tilematrixset": NATIVE,
            "tilematrix": "2", "row": 1, "column": 3}
    kvp = wmts.gettile(format="image/png", time="2017-01-14", **args).read()
    url = wmts.buildTileResource(**args, Time="2017-01-14")
    rest = http.get(url.rsplit(".", 1)[0] + ".png")
    assert rest.status_code == 200 and rest.headers["content-type"] == "image/png"
    assert rest.content == kvp
    with MemoryFile(kvp) as mem, mem.open() as png:
        alpha = png.read(4)
    truth = expected(engine, series.layer, NATIVE, 2, 3, 1, "2017-01-14")
    assert truth.mask.any() and not truth.mask.all()
    np.testing.assert_array_equal(alpha == 0, np.ma.getmaskarray(truth))


def test_time_selects_the_date(http: httpx.Client, published: dict[str, Published],
                               engine: Engine) -> None:
    series = published["series"]
    url = f"{series.service_url}/tile/1.0.0/{series.layer.id}/default/{{}}/{NATIVE}/2/1/2.tif"
    tiles = {day: _tif(http.get(url.format(day)).content) for day in ("2017-01-04", "2017-01-24")}
    assert not np.ma.allequal(tiles["2017-01-04"], tiles["2017-01-24"])
    truth = expected(engine, series.layer, NATIVE, 2, 2, 1, "2017-01-04")
    _assert_same(tiles["2017-01-04"], truth)
    default = _tif(http.get(url.format("default")).content)
    _assert_same(default, tiles["2017-01-24"])


@pytest.mark.parametrize(
    ("tms_id", "z"),
    [
        pytest.param("WebMercatorQuad", 13, id="webmercator"),
        pytest.param("WorldCRS84Quad", 12, id="crs84"),
        pytest.param(NATIVE, 1, id="native"),
    ],
)
def test_float_tiff_tile_equals_evaluate(
    http: httpx.Client, published: dict[str, Published], engine: Engine, tms_id: str, z: int
) -> None:
    layer = published["min"].layer
    west, south, east, north = layer.bounds_wgs84
    tms = tile_matrix_set(layer, tms_id)
    if tms_id == NATIVE:
        col, row = 0, 1
    else:
        center = tms.tile((west + east) / 2, (south + north) / 2, z)
        col, row = center.x, center.y
    response = http.get(published["min"].service_url, params={
        "SERVICE": "WMTS", "REQUEST": "GetTile", "VERSION": "1.0.0", "LAYER": layer.id,
        "STYLE": "default", "FORMAT": "image/tiff", "TILEMATRIXSET": tms_id,
        "TILEMATRIX": str(z), "TILEROW": str(row), "TILECOL": str(col)})
    assert response.status_code == 200, response.text
    with MemoryFile(response.content) as mem, mem.open() as tif:
        assert tif.dtypes[0] == "float32"
    truth = expected(engine, layer, tms_id, z, col, row)
    assert truth.count() > 1000
    _assert_same(_tif(response.content), truth)


def test_gdal_opens_the_capabilities_and_reads_the_tiles(
    base_url: str, published: dict[str, Published], http: httpx.Client
) -> None:
    layer = published["min"].layer
    caps = f"{published['min'].service_url}/1.0.0/WMTSCapabilities.xml"
    with rasterio.Env(GDAL_ENABLE_WMS_CACHE="NO", GDAL_HTTP_TIMEOUT="60"):
        with rasterio.open(f"WMTS:{caps},layer={layer.id},tilematrixset={NATIVE}") as ds:
            assert ds.crs.to_epsg() == 32632
            assert (ds.transform.a, ds.transform.c, ds.transform.f) == (20.0, 652000.0, 5181000.0)
            assert ds.count == 4
            pixels = ds.read(window=((256, 512), (512, 768)))
    tile = http.get(f"{published['min'].service_url}/tile/1.0.0/{layer.id}/default/"
                    f"{NATIVE}/2/1/2.png")
    with MemoryFile(tile.content) as mem, mem.open() as png:
        np.testing.assert_array_equal(pixels, png.read())


def test_styles_are_colormaps(http: httpx.Client, published: dict[str, Published]) -> None:
    layer = published["min"].layer
    base = f"{published['min'].service_url}/tile/1.0.0/{layer.id}/{{}}/{NATIVE}/1/0/0.png"
    default, viridis = (http.get(base.format(s)) for s in ("default", "viridis"))
    assert default.status_code == viridis.status_code == 200
    assert default.content != viridis.content


def test_etag_revalidation(http: httpx.Client, published: dict[str, Published]) -> None:
    layer = published["min"].layer
    url = f"{published['min'].service_url}/tile/1.0.0/{layer.id}/default/{NATIVE}/0/0/0.png"
    first = http.get(url)
    again = http.get(url, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""


# --- GetFeatureInfo -----------------------------------------------------------------------


@pytest.mark.parametrize(("i", "j"), [(10, 20), (200, 5)])
def test_feature_info_is_the_pixel_value(
    http: httpx.Client, published: dict[str, Published], engine: Engine, i: int, j: int
) -> None:
    series = published["series"]
    response = http.get(series.service_url, params={
        "service": "WMTS", "request": "GetFeatureInfo", "version": "1.0.0",
        "layer": series.layer.id, "style": "default", "format": "image/png",
        "tilematrixset": NATIVE, "tilematrix": "2", "tilerow": "1", "tilecol": "2",
        "time": "2017-01-14", "infoformat": "application/json", "i": str(i), "j": str(j)})
    assert response.status_code == 200, response.text
    properties = response.json()["features"][0]["properties"]
    truth = expected(engine, series.layer, NATIVE, 2, 2, 1, "2017-01-14")
    value = properties["values"]["ndvi"]
    if truth.mask[j, i]:
        assert value is None
    else:
        assert value == pytest.approx(float(truth[j, i]), rel=1e-6)
    assert properties["time"].startswith("2017-01-14")
    bounds = native_tms(series.layer).xy_bounds(2, 1, 2)
    assert (properties["x"], properties["y"]) == (
        bounds.left + (i + 0.5) * 20, bounds.top - (j + 0.5) * 20)
    text = http.get(f"{series.service_url}/tile/1.0.0/{series.layer.id}/default/2017-01-14/"
                    f"{NATIVE}/2/1/2/{j}/{i}.txt")
    assert text.status_code == 200 and text.headers["content-type"].startswith("text/plain")
    shown = "nodata" if value is None else repr(value)
    assert f"ndvi = {shown}" in text.text


# --- errors -------------------------------------------------------------------------------

KVP = ("SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER={layer}&STYLE=default"
       "&FORMAT=image/png&TILEMATRIXSET=UTM32N-20m&TILEMATRIX=1&TILEROW=0&TILECOL=0")


def _kvp(**changes: str | None) -> str:
    parts = dict(p.split("=", 1) for p in KVP.split("&"))
    for key, value in changes.items():
        if value is None:
            parts.pop(key.upper())
        else:
            parts[key.upper()] = value
    return "?" + "&".join(f"{k}={v}" for k, v in parts.items())


BAD_REQUESTS = [
    ("no-request", "?SERVICE=WMTS", 400, "MissingParameterValue", "REQUEST"),
    ("unknown-operation", "?SERVICE=WMTS&REQUEST=GetMap", 501, "OperationNotSupported",
     "REQUEST"),
    ("wrong-case-operation", _kvp(request="gettile"), 501, "OperationNotSupported", "REQUEST"),
    ("no-service", _kvp(service=None), 400, "MissingParameterValue", "SERVICE"),
    ("wrong-service", _kvp(service="WCS"), 400, "InvalidParameterValue", "SERVICE"),
    ("wrong-version", _kvp(version="2.0.0"), 400, "InvalidParameterValue", "VERSION"),
    ("accept-versions", "?SERVICE=WMTS&REQUEST=GetCapabilities&ACCEPTVERSIONS=2.0.0", 400,
     "VersionNegotiationFailed", "ACCEPTVERSIONS"),
    ("no-layer", _kvp(layer=None), 400, "MissingParameterValue", "LAYER"),
    ("unknown-layer", _kvp(layer="nope"), 400, "InvalidParameterValue", "LAYER"),
    ("no-style", _kvp(style=None), 400, "MissingParameterValue", "STYLE"),
    ("unknown-style", _kvp(style="sepia"), 400, "InvalidParameterValue", "STYLE"),
    ("no-format", _kvp(format=None), 400, "MissingParameterValue", "FORMAT"),
    ("unknown-format", _kvp(format="image/gif"), 400, "InvalidParameterValue", "FORMAT"),
    ("unknown-tms", _kvp(tilematrixset="EPSG:2056"), 400, "InvalidParameterValue",
     "TILEMATRIXSET"),
    ("no-tilematrix", _kvp(tilematrix=None), 400, "MissingParameterValue", "TILEMATRIX"),
    ("unknown-tilematrix", _kvp(tilematrix="9"), 400, "InvalidParameterValue", "TILEMATRIX"),
    ("row-not-integer", _kvp(tilerow="a"), 400, "InvalidParameterValue", "TILEROW"),
    ("row-out-of-range", _kvp(tilerow="2"), 400, "TileOutOfRange", "TILEROW"),
    ("col-out-of-range", _kvp(tilecol="7"), 400, "TileOutOfRange", "TILECOL"),
    ("no-tilecol", _kvp(tilecol=None), 400, "MissingParameterValue", "TILECOL"),
    ("info-no-i", _kvp(request="GetFeatureInfo") + "&INFOFORMAT=text/plain&J=1", 400,
     "MissingParameterValue", "I"),
    ("info-bad-format", _kvp(request="GetFeatureInfo") + "&INFOFORMAT=text/html&I=1&J=1", 400,
     "InvalidParameterValue", "INFOFORMAT"),
    ("info-ij-outside", _kvp(request="GetFeatureInfo") + "&INFOFORMAT=text/plain&I=256&J=1",
     400, "PointIJOutOfRange", "I"),
    ("rest-bad-path", "/tile/1.0.0/{layer}/default/UTM32N-20m/1/0.png", 404,
     "NoApplicableCode", None),
    ("rest-bad-extension", "/tile/1.0.0/{layer}/default/UTM32N-20m/1/0/0.gif", 400,
     "InvalidParameterValue", "FORMAT"),
    ("rest-out-of-range", "/tile/1.0.0/{layer}/default/UTM32N-20m/1/0/5.png", 400,
     "TileOutOfRange", "TILECOL"),
]


@pytest.mark.parametrize(
    ("query", "status", "code", "locator"),
    [pytest.param(*case[1:], id=case[0]) for case in BAD_REQUESTS],
)
def test_bad_requests_answer_exception_reports(
    http: httpx.Client, published: dict[str, Published], schema_errors,  # type: ignore[no-untyped-def]
    query: str, status: int, code: str, locator: str | None,
) -> None:
    target = published["min"]
    response = http.get(target.service_url + query.format(layer=target.layer.id))
    _assert_report(response, schema_errors, status, code, locator)


@pytest.mark.parametrize(
    ("query", "status", "code", "locator"),
    [
        pytest.param("/tile/1.0.0/{layer}/default/2016-01-01/UTM32N-20m/1/0/0.png", 400,
                     "InvalidParameterValue", "TIME", id="unknown-date"),
        pytest.param("/tile/1.0.0/{layer}/default/UTM32N-20m/1/0/0.png", 404,
                     "NoApplicableCode", None, id="time-segment-missing"),
        pytest.param(_kvp(time="yesterday"), 400, "InvalidParameterValue", "TIME",
                     id="time-not-a-date"),
    ],
)
def test_time_errors(
    http: httpx.Client, published: dict[str, Published], schema_errors,  # type: ignore[no-untyped-def]
    query: str, status: int, code: str, locator: str | None,
) -> None:
    target = published["series"]
    response = http.get(target.service_url + query.format(layer=target.layer.id))
    _assert_report(response, schema_errors, status, code, locator)


def test_unknown_wrong_type_and_stopped_services_are_404(
    http: httpx.Client, schema_errors  # type: ignore[no-untyped-def]
) -> None:
    graph = _graphs()["min"]
    missing = http.get("/services/doesnotexist/wmts?SERVICE=WMTS&REQUEST=GetCapabilities")
    _assert_report(missing, schema_errors, 404, "NoApplicableCode", None)
    _, wcs_url = _publish(http, graph, "as wcs", kind="wcs")
    wrong = http.get(wcs_url.rsplit("/", 1)[0] + "/wmts/1.0.0/WMTSCapabilities.xml")
    _assert_report(wrong, schema_errors, 404, "NoApplicableCode", None)
    job_id, url = _publish(http, graph, "stopped")
    assert http.get(url).status_code == 200
    assert http.delete(f"/jobs/{job_id}/on_demand").status_code in (200, 204)
    _assert_report(http.get(url), schema_errors, 404, "NoApplicableCode", None)


def _assert_report(response: httpx.Response, schema_errors, status: int, code: str,  # type: ignore[no-untyped-def]
                   locator: str | None) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/xml")
    assert schema_errors("ows11", response.content) == []
    import xml.etree.ElementTree as ET

    exc = ET.fromstring(response.content).find(f"{OWS}Exception")
    assert exc is not None
    assert (exc.get("exceptionCode"), exc.get("locator")) == (code, locator)
    assert exc.findtext(f"{OWS}ExceptionText")


def _tif(content: bytes) -> np.ma.MaskedArray:
    with MemoryFile(content) as mem, mem.open() as tif:
        data: np.ma.MaskedArray = np.ma.masked_invalid(tif.read(1, masked=True))
    return data


def _assert_same(got: np.ma.MaskedArray, truth: np.ma.MaskedArray) -> None:
    np.testing.assert_array_equal(np.ma.getmaskarray(got), np.ma.getmaskarray(truth))
    np.testing.assert_array_equal(got.filled(np.nan), truth.filled(np.nan).astype(np.float32))

