"""``/collections/{id}/coverage``: GeoTIFF values equal ``POST /jobs/execute`` of the same
window (the jobs API, evaluated independently of the OGC API's parsing)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from rasterio.warp import transform_bounds
from starlette.testclient import TestClient

from ondemand.catalog import Catalog

from .conftest import BBOX, execute, graphs, read_tiff, with_bbox, with_dates

NATIVE = (20.0, 0.0, 652000.0, 0.0, -20.0, 5181000.0)


@pytest.fixture(scope="module")
def full(client: TestClient) -> np.ma.MaskedArray:
    """The min NDVI job on its native grid through the jobs API."""
    return execute(client, graphs()["min"])


def coverage(client: TestClient, collection: str, query: str = "") -> tuple[Any, Any, Any]:
    response = client.get(f"{collection}/coverage{query}")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/tiff; application=geotiff"
    return read_tiff(response.content)


def test_whole_coverage_equals_execute(
    client: TestClient, published: dict[str, str], full: np.ma.MaskedArray
) -> None:
    data, transform, crs = coverage(client, published["min"])
    assert crs.to_epsg() == 32632
    assert transform.almost_equals(NATIVE, precision=1e-9)
    np.testing.assert_allclose(data.filled(np.nan), full.filled(np.nan), atol=1e-6)


def test_projected_subset_equals_execute_of_that_bbox(
    client: TestClient, published: dict[str, str]
) -> None:
    box = {"left": 656000, "right": 660000, "bottom": 5170000, "top": 5175000}
    data, transform, _ = coverage(
        client, published["min"], "?subset=E(656000:660000),N(5170000:5175000)"
    )
    assert data.shape == (1, 250, 200)
    assert (transform.c, transform.f) == (656000.0, 5175000.0)
    expected = execute(client, with_bbox(graphs()["min"], **box))
    np.testing.assert_allclose(data.filled(np.nan), expected.filled(np.nan), atol=1e-6)


def test_lat_lon_subset_keeps_native_pixels_holding_it(
    client: TestClient, published: dict[str, str], full: np.ma.MaskedArray
) -> None:
    data, transform, _ = coverage(
        client, published["min"], "?subset=Lat(46.65:46.70),Lon(11.05:11.12)"
    )
    left, _, _, top = transform_bounds("EPSG:4326", "EPSG:32632", 11.05, 46.65, 11.12, 46.70)
    assert transform.c <= left < transform.c + 20 and transform.f >= top > transform.f - 20
    col, row = round((transform.c - 652000) / 20), round((5181000 - transform.f) / 20)
    window = full[:, row : row + data.shape[1], col : col + data.shape[2]]
    np.testing.assert_allclose(data.filled(np.nan), window.filled(np.nan), atol=1e-6)


def test_bbox_in_crs84_equals_lat_lon_subset(client: TestClient, published: dict[str, str]) -> None:
    by_bbox = coverage(client, published["min"], "?bbox=11.05,46.65,11.12,46.70")
    by_subset = coverage(client, published["min"], "?subset=Lat(46.65:46.70),Lon(11.05:11.12)")
    assert by_bbox[1] == by_subset[1]
    np.testing.assert_array_equal(by_bbox[0].filled(-9), by_subset[0].filled(-9))


def test_bbox_crs_names_a_projected_bbox(client: TestClient, published: dict[str, str]) -> None:
    crs = "http://www.opengis.net/def/crs/EPSG/0/32632"
    query = f"?bbox=656000,5170000,660000,5175000&bbox-crs={crs}"
    data, transform, _ = coverage(client, published["min"], query)
    assert data.shape == (1, 250, 200) and (transform.c, transform.f) == (656000.0, 5175000.0)


@pytest.mark.parametrize(
    ("query", "shape", "pixel"),
    [
        ("?scale-size=E(100),N(50)", (1, 50, 100), (200.0, 400.0)),
        ("?scaleSize=E(100),N(50)", (1, 50, 100), (200.0, 400.0)),
        ("?scale-factor=4", (1, 250, 250), (80.0, 80.0)),
        ("?scale-axes=E(2)", (1, 1000, 500), (40.0, 20.0)),
    ],
)
def test_scaling(
    client: TestClient,
    published: dict[str, str],
    query: str,
    shape: tuple[int, int, int],
    pixel: tuple[float, float],
) -> None:
    data, transform, _ = coverage(client, published["min"], query)
    assert data.shape == shape
    assert (transform.a, -transform.e) == pixel
    assert (transform.c, transform.f) == (652000.0, 5181000.0)


def test_gdal_block_request_beyond_the_edge_is_exact(
    client: TestClient, published: dict[str, str], full: np.ma.MaskedArray
) -> None:
    """GDAL asks 256-pixel blocks on the grid, the last ones past the edge: exact box and size."""
    query = "?subset=E(666880:672000),N(5156000:5161120)&scaleSize=E(256),N(256)"
    data, transform, _ = coverage(client, published["min"], query)
    assert data.shape == (1, 256, 256)
    assert (transform.c, transform.f, transform.a) == (666880.0, 5161120.0, 20.0)
    np.testing.assert_allclose(
        data[0, :6].filled(np.nan), full[0, -6:, -256:].filled(np.nan), atol=1e-6
    )
    assert data.mask[0, 6:].all()


def test_series_datetime_picks_one_date(client: TestClient, published: dict[str, str]) -> None:
    whole, _, _ = coverage(client, published["series"], "?scale-factor=10")
    one, _, _ = coverage(client, published["series"], "?scale-factor=10&datetime=2017-01-14")
    assert whole.shape[0] > 1 and one.shape[0] == 1
    expected = execute(
        client,
        with_bbox(with_dates(graphs()["series"], "2017-01-14", "2017-01-14"), **BBOX),
    )
    full_one, _, _ = coverage(client, published["series"], "?datetime=2017-01-14")
    np.testing.assert_allclose(full_one.filled(np.nan), expected.filled(np.nan), atol=1e-6)


def test_time_subset_trim_keeps_dates_inside(client: TestClient, published: dict[str, str]) -> None:
    trimmed, _, _ = coverage(
        client,
        published["series"],
        '?scale-factor=10&subset=time("2017-01-01T00:00:00Z":"2017-01-15T00:00:00Z")',
    )
    domain = client.get(f"{published['series']}/coverage/domainset").json()
    dates = domain["generalGrid"]["axis"][2]["coordinate"]
    assert trimmed.shape[0] == sum(d < "2017-01-15" for d in dates) >= 1


def test_properties_select_bands_of_a_catalog_collection(
    client: TestClient, demo_catalog: Catalog
) -> None:
    query = "?subset=E(656000:658000),N(5170000:5172000)&datetime=2017-01-04&properties=B8A,B04"
    data, _, _ = coverage(client, "/ogcapi/collections/S2_L2A_T32TPS_20M", query)
    graph = {
        "process_id": "filter_daterange",
        "args": {
            "imagery": {
                "process_id": "filter_bbox",
                "args": {
                    "imagery": {"product_id": "S2_L2A_T32TPS_20M"},
                    "left": 656000, "right": 658000, "bottom": 5170000, "top": 5172000,
                    "srs": "EPSG:32632",
                },
            },
            "from": "2017-01-04",
            "to": "2017-01-04",
        },
    }
    everything = execute(client, graph)
    bands = [b.name for b in demo_catalog.get("S2_L2A_T32TPS_20M").bands]
    expected = everything[[bands.index("B8A"), bands.index("B04")]]
    assert data.shape == (2, 100, 100)
    np.testing.assert_allclose(data.filled(np.nan), expected.filled(np.nan), atol=1e-6)


def test_domainset_and_rangetype(client: TestClient, published: dict[str, str]) -> None:
    base = f"{published['min']}/coverage"
    grid = client.get(base + "/domainset").json()["generalGrid"]
    assert grid["srsName"] == "http://www.opengis.net/def/crs/EPSG/0/32632"
    assert grid["axisLabels"] == ["E", "N"]
    east, north = grid["axis"]
    assert (east["lowerBound"], east["upperBound"], east["resolution"]) == (652000, 672000, 20)
    assert (north["lowerBound"], north["upperBound"]) == (5161000, 5181000)
    assert [a["upperBound"] for a in grid["gridLimits"]["axis"]] == [999, 999]
    fields = client.get(base + "/rangetype").json()["field"]
    assert [(f["name"], f["definition"].rsplit("/", 1)[1]) for f in fields] == [("ndvi", "float32")]
