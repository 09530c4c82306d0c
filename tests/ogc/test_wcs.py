"""WCS 1.0.0 and 2.0.1 through the app: documents (schema-valid), GetCoverage pixels, errors."""

from __future__ import annotations

import copy
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from rasterio.io import MemoryFile
from starlette.testclient import TestClient

from ondemand.settings import Settings
from services import create_app
from tests.support.seed import use_case_1_job

OGC = Path(__file__).resolve().parents[2].parent / "shared" / "ogc"
OWS20 = "{http://www.opengis.net/ows/2.0}"
SE = "{http://www.opengis.net/ogc}"
RGRID = "http://www.opengis.net/gml/3.3/rgrid"
WCS20 = "http://www.opengis.net/wcs/2.0"


@pytest.fixture(scope="module")
def schema_errors() -> Callable[[str, bytes], list[str]]:
    if not (OGC / "validate.py").is_file():
        pytest.skip(f"the OGC schemas are not at {OGC} (they ship beside the repo)")
    sys.path.insert(0, str(OGC))
    from validate import errors

    return errors  # type: ignore[no-any-return]


def _publish(client: TestClient, graph: Any, version: str = "2.0.1") -> tuple[str, str]:
    job = client.post("/jobs", json={"process_graph": graph})
    assert job.status_code == 200, job.text
    job_id = job.json()["job_id"]
    service = client.post(
        "/services", json={"job_id": job_id, "type": "wcs", "args": {"VERSION": version}}
    )
    assert service.status_code == 200, service.text
    return job_id, str(service.json()["service_url"]).replace("http://testserver", "")


@pytest.fixture(scope="module")
def minimum(client: TestClient) -> tuple[str, str]:
    return _publish(client, use_case_1_job()["process_graph"])


@pytest.fixture(scope="module")
def series(client: TestClient) -> tuple[str, str]:
    return _publish(client, copy.deepcopy(use_case_1_job()["process_graph"]["args"]["imagery"]))


def _tiff(content: bytes) -> dict[str, Any]:
    with MemoryFile(content) as memfile, memfile.open() as dataset:
        return {
            "crs": dataset.crs.to_epsg(),
            "transform": dataset.transform,
            "shape": (dataset.count, dataset.height, dataset.width),
            "data": dataset.read(masked=True),
            "descriptions": dataset.descriptions,
        }


def _execute(client: TestClient, graph: Any, output: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/jobs/execute", json={"process_graph": graph, "output": output})
    assert response.status_code == 200, response.text
    return _tiff(response.content)


@pytest.mark.parametrize(
    ("query", "kind"),
    [
        pytest.param("SERVICE=WCS&VERSION=1.0.0&REQUEST=GetCapabilities", "wcs10", id="caps-10"),
        pytest.param("SERVICE=WCS&VERSION=1.0.0&REQUEST=DescribeCoverage&COVERAGE={cov}",
                     "wcs10", id="describe-10"),
        pytest.param("SERVICE=WCS&REQUEST=GetCapabilities", "wcs20", id="caps-default-20"),
        pytest.param("SERVICE=WCS&ACCEPTVERSIONS=2.0.1&REQUEST=GetCapabilities", "wcs20",
                     id="caps-acceptversions"),
        pytest.param("SERVICE=WCS&VERSION=2.0.1&REQUEST=DescribeCoverage&COVERAGEID={cov}",
                     "wcs20", id="describe-20"),
    ],
)
@pytest.mark.parametrize("which", ["minimum", "series"])
def test_documents_are_schema_valid(
    client: TestClient, request: pytest.FixtureRequest, schema_errors: Any,
    which: str, query: str, kind: str,
) -> None:
    job_id, url = request.getfixturevalue(which)
    response = client.get(f"{url}?{query.format(cov='job_' + job_id)}")
    assert response.status_code == 200, response.text
    found = schema_errors(kind, response.content)
    if which == "series" and "DescribeCoverage" in query and kind == "wcs20":
        # a time series' grid by vectors is GML 3.3, which the offline OGC schemas lack
        # (they hold GML 3.2): that element is the one complaint; OWSLib and GDAL read it
        # in test_wcs_clients.py
        assert len(found) == 1 and found[0].startswith(
            f"line 2: Element '{{{RGRID}}}ReferenceableGridByVectors': This element is not "
            "expected."), found
        return
    assert found == []
    assert f"job_{job_id}".encode() in response.content


def test_describe_20_grid_and_time_axis(client: TestClient, series: tuple[str, str]) -> None:
    job_id, url = series
    body = client.get(
        f"{url}?SERVICE=WCS&VERSION=2.0.1&REQUEST=DescribeCoverage&COVERAGEID={job_id}"
    ).content
    gml = "{http://www.opengis.net/gml/3.2}"
    root = ET.fromstring(body)
    envelope = root.find(f".//{gml}Envelope")
    assert envelope is not None and envelope.get("axisLabels") == "E N ansi"
    assert envelope.findtext(f"{gml}lowerCorner") == "652000.0 5161000.0 151945.42013888888"
    rgrid = f"{{{RGRID}}}"
    assert root.find(f".//{gml}RectifiedGrid") is None
    grid = root.find(f".//{rgrid}ReferenceableGridByVectors")
    assert grid is not None
    assert grid.findtext(f".//{gml}high") == "999 999 2"
    assert grid.findtext(f"{gml}axisLabels") == "E N ansi"
    assert grid.findtext(f".//{gml}pos") == "652010.0 5180990.0 151945.42013888888"
    axes = grid.findall(f"{rgrid}generalGridAxis/{rgrid}GeneralGridAxis")
    assert [a.findtext(f"{rgrid}gridAxesSpanned") for a in axes] == ["E", "N", "ansi"]
    assert [a.findtext(f"{rgrid}offsetVector") for a in axes] == [
        "20.0 0.0 0.0", "0.0 -20.0 0.0", "0.0 0.0 1.0"]
    assert [a.findtext(f"{rgrid}coefficients") for a in axes] == [
        "", "", "2017-01-04T10:05:00Z 2017-01-14T10:05:00Z 2017-01-24T10:05:00Z"]
    assert root.findtext(f".//{{{WCS20}}}CoverageSubtype") == "ReferenceableGridCoverage"
    dates = [e.text for e in root.iter("{urn:ondemand:wcs}timePosition")]
    assert dates == ["2017-01-04T10:05:00Z", "2017-01-14T10:05:00Z", "2017-01-24T10:05:00Z"]


@pytest.mark.parametrize(
    ("query", "output"),
    [
        pytest.param("VERSION=2.0.1&COVERAGEID={job}", {}, id="20-whole"),
        pytest.param("VERSION=2.0.1&COVERAGEID={cov}&SUBSET=E(660000,661000)"
                     "&SUBSET=N(5170000,5171000)&FORMAT=image/tiff",
                     {"bbox": (660000, 5170000, 661000, 5171000)}, id="20-trim"),
        pytest.param("VERSION=2.0.1&COVERAGEID={cov}&SCALESIZE=E(200),N(100)",
                     {"width": 200, "height": 100}, id="20-scalesize"),
        pytest.param("VERSION=2.0.1&COVERAGEID={cov}&SUBSETTINGCRS=EPSG:4326"
                     "&SUBSET=Lat(46.6,46.7)&SUBSET=Long(11.0,11.1)&SCALESIZE=Long(60),Lat(50)",
                     {"crs": "EPSG:4326", "bbox": (11.0, 46.6, 11.1, 46.7), "width": 60,
                      "height": 50}, id="20-degrees"),
        pytest.param("VERSION=1.0.0&COVERAGE={cov}&FORMAT=GeoTIFF&CRS=EPSG:32632"
                     "&BBOX=660000,5170000,661000,5171000&WIDTH=25&HEIGHT=25&FOO=ignored",
                     {"bbox": (660000, 5170000, 661000, 5171000), "width": 25, "height": 25},
                     id="10-bbox-size"),
        pytest.param("VERSION=1.0.0&COVERAGE={cov}&FORMAT=GeoTIFF&CRS=EPSG:4326"
                     "&RESPONSE_CRS=EPSG:4326&BBOX=11.0,46.6,11.1,46.7&RESX=0.002&RESY=0.002",
                     {"crs": "EPSG:4326", "bbox": (11.0, 46.6, 11.1, 46.7), "width": 50,
                      "height": 50}, id="10-degrees-resx"),
    ],
)
def test_get_coverage_equals_execute(
    client: TestClient, minimum: tuple[str, str], query: str, output: dict[str, Any]
) -> None:
    job_id, url = minimum
    response = client.get(
        f"{url}?SERVICE=WCS&REQUEST=GetCoverage&"
        + query.format(job=job_id, cov=f"job_{job_id}")
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("image/tiff")
    got = _tiff(response.content)
    graph = copy.deepcopy(use_case_1_job()["process_graph"])
    spec: dict[str, Any] = {"format": "GTiff"}
    bbox = output.pop("bbox", None)
    if bbox is not None:  # the same grid through /jobs/execute: a graph cut to that box
        crs = output.get("crs", "EPSG:32632")
        node = graph["args"]["imagery"]["args"]["imagery"]["args"]["imagery"]
        node["args"].update(
            left=bbox[0], bottom=bbox[1], right=bbox[2], top=bbox[3], srs=crs
        )
    spec.update(output)
    expected = _execute(client, graph, spec)
    assert got["crs"] == expected["crs"]
    assert got["shape"] == expected["shape"]
    assert got["transform"].almost_equals(expected["transform"], precision=1e-9)
    np.testing.assert_array_equal(got["data"].mask, expected["data"].mask)
    np.testing.assert_allclose(got["data"].filled(0), expected["data"].filled(0), rtol=0,
                               atol=0)
    assert got["data"].count() > 0


def test_time_series_slices(
    client: TestClient, series: tuple[str, str], minimum: tuple[str, str]
) -> None:
    job_id, url = series
    base = f"{url}?SERVICE=WCS&REQUEST=GetCoverage"
    box = "&SUBSET=E(660000,661000)&SUBSET=N(5170000,5171000)"
    whole = _tiff(client.get(f"{base}&VERSION=2.0.1&COVERAGEID={job_id}{box}").content)
    assert whole["shape"] == (3, 50, 50)
    assert whole["descriptions"][1].startswith("2017-01-14")
    sliced = _tiff(client.get(
        f'{base}&VERSION=2.0.1&COVERAGEID={job_id}{box}&SUBSET=ansi("2017-01-14")').content)
    assert sliced["shape"] == (1, 50, 50)
    np.testing.assert_array_equal(sliced["data"][0].filled(9), whole["data"][1].filled(9))
    old = _tiff(client.get(
        f"{base}&VERSION=1.0.0&COVERAGE=job_{job_id}&FORMAT=GeoTIFF&CRS=EPSG:32632"
        "&BBOX=660000,5170000,661000,5171000&WIDTH=50&HEIGHT=50&TIME=2017-01-24").content)
    np.testing.assert_array_equal(old["data"][0].filled(9), whole["data"][2].filled(9))
    # minimum over time == the min-NDVI job's coverage on the same grid
    reduced = _tiff(client.get(f"{minimum[1]}?SERVICE=WCS&REQUEST=GetCoverage&VERSION=2.0.1"
                               f"&COVERAGEID={minimum[0]}{box}").content)["data"][0]
    np.testing.assert_array_equal(whole["data"].min(axis=0).filled(9), reduced.filled(9))


def test_wcs10_bbox_beside_the_coverage_is_no_data(
    client: TestClient, minimum: tuple[str, str]
) -> None:
    job_id, url = minimum
    response = client.get(
        f"{url}?SERVICE=WCS&VERSION=1.0.0&REQUEST=GetCoverage&COVERAGE=job_{job_id}"
        "&FORMAT=GeoTIFF&CRS=EPSG:4326&BBOX=16.1,47.9,16.5,48.6&WIDTH=40&HEIGHT=70"
    )
    assert response.status_code == 200
    got = _tiff(response.content)
    assert got["shape"] == (1, 70, 40) and bool(got["data"].mask.all())


ERRORS_20 = [
    ("VERSION=2.0.1&REQUEST=GetCoverage&COVERAGEID=nope", "NoSuchCoverage", 404),
    ("VERSION=2.0.1&REQUEST=DescribeCoverage&COVERAGEID=nope", "NoSuchCoverage", 404),
    ("VERSION=2.0.1&REQUEST=DescribeCoverage", "EmptyCoverageIdList", 404),
    ("VERSION=2.0.1&REQUEST=GetCoverage&COVERAGEID={cov}&SUBSET=h(1,2)", "InvalidAxisLabel", 404),
    ("VERSION=2.0.1&REQUEST=GetCoverage&COVERAGEID={cov}&SUBSET=E(1,2)", "InvalidSubsetting",
     404),
    ("VERSION=2.0.1&REQUEST=GetCoverage&COVERAGEID={cov}&SUBSET=E(2,1)", "InvalidSubsetting",
     404),
    ("VERSION=2.0.1&REQUEST=GetCoverage&COVERAGEID={cov}&SCALEFACTOR=-1", "InvalidScaleFactor",
     404),
    ("VERSION=2.0.1&REQUEST=GetCoverage&COVERAGEID={cov}&SCALEFACTOR=1e-320", "InvalidScaleFactor",
     404),
    ("VERSION=2.0.1&REQUEST=GetCoverage&COVERAGEID={cov}&SUBSETTINGCRS=EPSG:99999",
     "SubsettingCrs-NotSupported", 501),
    ("VERSION=2.0.1&REQUEST=GetCoverage&COVERAGEID={cov}&OUTPUTCRS=nonsense",
     "OutputCrs-NotSupported", 501),
    ("VERSION=2.0.1&REQUEST=GetCoverage&COVERAGEID={cov}&FORMAT=image/png",
     "InvalidParameterValue", 400),
    ("VERSION=2.0.1&REQUEST=GetCoverage", "MissingParameterValue", 400),
    ("VERSION=2.0.1&REQUEST=GetMap", "OperationNotSupported", 501),
    ("VERSION=3.0&REQUEST=GetCoverage&COVERAGEID={cov}", "InvalidParameterValue", 400),
    ("VERSION=2.0.1&REQUEST=GetCoverage&COVERAGEID={cov}&SCALESIZE=E(100000),N(100000)",
     "NoApplicableCode", 413),
]


@pytest.mark.parametrize(
    ("query", "code", "status"), [pytest.param(*e, id=e[1]) for e in ERRORS_20]
)
def test_wcs20_exceptions(
    client: TestClient, minimum: tuple[str, str], schema_errors: Any,
    query: str, code: str, status: int,
) -> None:
    job_id, url = minimum
    response = client.get(f"{url}?SERVICE=WCS&" + query.format(cov=f"job_{job_id}"))
    assert response.status_code == status, response.text
    assert schema_errors("ows20", response.content) == []
    node = ET.fromstring(response.content).find(f"{OWS20}Exception")
    assert node is not None and node.get("exceptionCode") == code
    if status == 413:
        assert "25,000,000" in (node.findtext(f"{OWS20}ExceptionText") or "")


ERRORS_10 = [
    ("REQUEST=DescribeCoverage&COVERAGE={cov}", "MissingParameterValue", "VERSION", 400),
    ("VERSION=1.0.0&REQUEST=GetCoverage&FORMAT=GeoTIFF&CRS=EPSG:4326&BBOX=0,0,1,1&WIDTH=1"
     "&HEIGHT=1", "MissingParameterValue", "COVERAGE", 400),
    ("VERSION=1.0.0&REQUEST=GetCoverage&COVERAGE={cov}&FORMAT=GeoTIFF&BBOX=0,0,1,1&WIDTH=1"
     "&HEIGHT=1", "MissingParameterValue", "CRS", 400),
    ("VERSION=1.0.0&REQUEST=GetCoverage&COVERAGE={cov}&FORMAT=GeoTIFF&CRS=EPSG:4326&WIDTH=1"
     "&HEIGHT=1", "MissingParameterValue", "BBOX", 400),
    ("VERSION=1.0.0&REQUEST=GetCoverage&COVERAGE={cov}&FORMAT=GeoTIFF&CRS=EPSG:4326"
     "&BBOX=0,0,1,1", "MissingParameterValue", "WIDTH", 400),
    ("VERSION=1.0.0&REQUEST=GetCoverage&COVERAGE=nope&FORMAT=GeoTIFF&CRS=EPSG:4326"
     "&BBOX=0,0,1,1&WIDTH=1&HEIGHT=1", "CoverageNotDefined", "COVERAGE", 404),
    ("VERSION=1.0.0&REQUEST=DescribeCoverage&COVERAGE=nope", "CoverageNotDefined", "COVERAGE",
     404),
    ("VERSION=1.0.0&REQUEST=GetCoverage&COVERAGE={cov}&FORMAT=PNG&CRS=EPSG:4326"
     "&BBOX=0,0,1,1&WIDTH=1&HEIGHT=1", "InvalidFormat", "FORMAT", 400),
    ("VERSION=1.0.0&REQUEST=GetCoverage&COVERAGE={cov}&FORMAT=GeoTIFF&CRS=EPSG:99999"
     "&BBOX=0,0,1,1&WIDTH=1&HEIGHT=1", "InvalidParameterValue", "CRS", 400),
    ("VERSION=1.0.0&REQUEST=GetCoverage&COVERAGE={cov}&FORMAT=GeoTIFF&CRS=EPSG:4326"
     "&RESPONSE_CRS=EPSG:0&BBOX=0,0,1,1&WIDTH=1&HEIGHT=1", "InvalidParameterValue",
     "RESPONSE_CRS", 400),
    ("VERSION=1.0.0&REQUEST=GetCoverage&COVERAGE={cov}&FORMAT=GeoTIFF&CRS=EPSG:4326"
     "&BBOX=11,46,11,47&WIDTH=1&HEIGHT=1", "InvalidParameterValue", "BBOX", 400),
    ("VERSION=1.0.0&REQUEST=GetCoverage&COVERAGE={cov}&FORMAT=GeoTIFF&CRS=EPSG:4326"
     "&BBOX=11,46,11.1,47&WIDTH=6000&HEIGHT=6000", "InvalidParameterValue", "WIDTH", 413),
]


@pytest.mark.parametrize(
    ("query", "code", "locator", "status"),
    [pytest.param(*e, id=f"{e[1]}-{e[2]}") for e in ERRORS_10],
)
def test_wcs10_exceptions(
    client: TestClient, minimum: tuple[str, str], schema_errors: Any,
    query: str, code: str, locator: str, status: int,
) -> None:
    job_id, url = minimum
    response = client.get(f"{url}?SERVICE=WCS&" + query.format(cov=f"job_{job_id}"))
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/vnd.ogc.se_xml")
    assert schema_errors("se", response.content) == []
    node = ET.fromstring(response.content).find(f"{SE}ServiceException")
    assert node is not None
    assert (node.get("code"), node.get("locator")) == (code, locator)


def test_unknown_or_stopped_service(client: TestClient, schema_errors: Any) -> None:
    response = client.get("/services/nope/wcs?SERVICE=WCS&VERSION=1.0.0&REQUEST=GetCapabilities")
    assert response.status_code == 404
    assert schema_errors("se", response.content) == []
    job_id, url = _publish(client, use_case_1_job()["process_graph"])
    assert client.patch(f"/jobs/{job_id}/cancel").status_code == 200
    response = client.get(f"{url}?SERVICE=WCS&VERSION=2.0.1&REQUEST=GetCapabilities")
    assert response.status_code == 404
    assert schema_errors("ows20", response.content) == []


@pytest.fixture(scope="module")
def small_client(demo_data_dir: Path) -> Iterator[TestClient]:
    settings = Settings(data_dir=demo_data_dir, demo=True, max_pixels=100_000)
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def test_pixel_limit_is_an_exception_naming_it(small_client: TestClient) -> None:
    job_id, url = _publish(small_client, use_case_1_job()["process_graph"])
    query = f"SERVICE=WCS&VERSION=2.0.1&REQUEST=GetCoverage&COVERAGEID={job_id}"
    response = small_client.get(f"{url}?{query}")  # 1000 x 1000 > 100,000
    assert response.status_code == 413
    assert b"100,000" in response.content and b"1,000,000" in response.content
    # 100 x 100 reads 3 dates x 2 bands = 60,000 pixels: under the limit
    small = small_client.get(f"{url}?{query}&SCALESIZE=E(100),N(100)")
    assert small.status_code == 200 and _tiff(small.content)["shape"] == (1, 100, 100)


def test_use_case_1_sequence(client: TestClient, schema_errors: Any) -> None:
    """poc.md use case 1, steps 3-5, verbatim against the demo catalog."""
    job = client.post("/jobs", json=use_case_1_job())  # step 3
    assert job.status_code == 200
    job_id = job.json()["job_id"]
    service = client.post(  # step 4
        "/services", json={"job_id": job_id, "type": "wcs", "args": {"VERSION": "2.0.1"}}
    ).json()
    url = service["service_url"]
    caps = client.get(f"{url}?SERVICE=WCS&VERSION=2.0.1&REQUEST=GetCapabilities")  # step 5
    assert caps.status_code == 200 and schema_errors("wcs20", caps.content) == []
    draft = (
        f"{url}?SERVICE=WCS&VERSION=2.0.1&REQUEST=GetCoverage&COVERAGEID={job_id}"
        "&FORMAT=image/tiff&SUBSET=x,http://www.opengis.net/def/crs/EPSG/0/4326(16.1,16.5)"
        "&SUBSET=y,http://www.opengis.net/def/crs/EPSG/0/4326(47.9,48.6)&&SIZE=x(200)"
        "&SIZE=y(200)"
    )
    response = client.get(draft)
    # the draft's box is Vienna; the job's data lies near 11 E 46.7 N: InvalidSubsetting
    assert response.status_code == 404
    node = ET.fromstring(response.content).find(f"{OWS20}Exception")
    assert node is not None and node.get("exceptionCode") == "InvalidSubsetting"
    assert "10.98" in (node.findtext(f"{OWS20}ExceptionText") or "")
    # the same request over the job's own area answers the 200 x 200 GeoTIFF
    inside = draft.replace("16.1,16.5", "11.0,11.2").replace("47.9,48.6", "46.6,46.75")
    got = _tiff(client.get(inside).content)
    assert got["crs"] == 4326 and got["shape"] == (1, 200, 200)
    assert got["transform"].almost_equals(
        (0.2 / 200, 0.0, 11.0, 0.0, -0.15 / 200, 46.75), precision=1e-12
    )
    expected = _execute(client, _cut(use_case_1_job()["process_graph"], 11.0, 46.6, 11.2, 46.75),
                        {"format": "GTiff", "crs": "EPSG:4326", "width": 200, "height": 200})
    np.testing.assert_array_equal(got["data"].filled(9), expected["data"].filled(9))
    assert client.patch(f"/jobs/{job_id}/cancel").status_code == 200  # step 6


def _cut(graph: Any, left: float, bottom: float, right: float, top: float) -> Any:
    graph = copy.deepcopy(graph)
    node = graph["args"]["imagery"]["args"]["imagery"]["args"]["imagery"]
    node["args"].update(left=left, bottom=bottom, right=right, top=top, srs="EPSG:4326")
    return graph


@pytest.mark.parametrize("version", ["1.1.0", "1.1.1", "1.1.2"])
def test_wcs11_capabilities_name_the_versions_offered(
    client: TestClient, minimum: tuple[str, str], schema_errors: Any, version: str
) -> None:
    _, url = minimum
    response = client.get(f"{url}?SERVICE=WCS&VERSION={version}&REQUEST=GetCapabilities")
    assert response.status_code == 400
    assert schema_errors("ows11", response.content) == []
    root = ET.fromstring(response.content)
    assert root.tag == "{http://www.opengis.net/ows/1.1}ExceptionReport"
    exception = root.find("{http://www.opengis.net/ows/1.1}Exception")
    assert exception is not None and exception.get("exceptionCode") == "VersionNegotiationFailed"
    assert "2.0.1 and 1.0.0" in "".join(exception.itertext())
    # negotiation through ACCEPTVERSIONS still answers a version spoken here
    accepted = client.get(f"{url}?SERVICE=WCS&ACCEPTVERSIONS={version},2.0.1"
                          "&REQUEST=GetCapabilities")
    assert accepted.status_code == 200 and b'version="2.0.1"' in accepted.content
