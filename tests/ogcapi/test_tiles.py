"""Map and data tiles: the same bytes and ETags as XYZ (one tile path, one cache), data
tiles with float values equal to ``/jobs/execute`` of the tile's window, dates by
``datetime``, 304 on ``If-None-Match``."""

from __future__ import annotations

import morecantile
import numpy as np
import pytest
from starlette.testclient import TestClient

from .conftest import graphs, read_tiff, with_bbox

WEB = morecantile.tms.get("WebMercatorQuad")
TILE = WEB.tile(11.1, 46.67, 13)
"""A WebMercatorQuad tile inside the jobs' extent."""


def ogc_tile(client: TestClient, collection: str, kind: str, query: str = "") -> bytes:
    url = (
        f"{collection}/{kind}/tiles/WebMercatorQuad/"
        f"{TILE.z}/{TILE.y}/{TILE.x}{query}"
    )
    response = client.get(url)
    assert response.status_code == 200, response.text
    return response.content


def xyz_tile(client: TestClient, service_id: str, fmt: str, query: str = "") -> bytes:
    response = client.get(f"/services/{service_id}/xyz/{TILE.z}/{TILE.x}/{TILE.y}.{fmt}{query}")
    assert response.status_code == 200, response.text
    return response.content


@pytest.mark.parametrize(("fmt", "query"), [("png", ""), ("jpg", "?f=jpeg"), ("png", "?f=png")])
def test_map_tile_is_the_xyz_tile(
    client: TestClient, published: dict[str, str], xyz: dict[str, str], fmt: str, query: str
) -> None:
    """Row before column: ``{z}/{row}/{col}`` here is XYZ's ``{z}/{x=col}/{y=row}``."""
    assert ogc_tile(client, published["min"], "map", query) == xyz_tile(
        client, xyz["min"], fmt
    )


def test_data_tile_holds_the_float_values_of_the_window(
    client: TestClient, published: dict[str, str], xyz: dict[str, str]
) -> None:
    content = ogc_tile(client, published["min"], "coverage")
    data, transform, crs = read_tiff(content)
    assert data.dtype == np.float32 and data.shape == (1, 256, 256)
    assert crs.to_epsg() == 3857
    bounds = WEB.xy_bounds(TILE)
    assert abs(transform.c - bounds.left) < 1e-6 and abs(transform.f - bounds.top) < 1e-6
    graph = with_bbox(
        graphs()["min"],
        left=bounds.left,
        right=bounds.right,
        bottom=bounds.bottom,
        top=bounds.top,
        srs="EPSG:3857",
    )
    response = client.post(
        "/jobs/execute",
        json={
            "process_graph": graph,
            "output": {"format": "GTiff", "width": 256, "height": 256, "crs": "EPSG:3857"},
        },
    )
    assert response.status_code == 200, response.text
    expected, expected_transform, _ = read_tiff(response.content)
    assert expected_transform.almost_equals(transform, precision=1e-6)
    np.testing.assert_allclose(data.filled(np.nan), expected.filled(np.nan), atol=1e-6)
    assert content == xyz_tile(client, xyz["min"], "tif")


def test_datetime_picks_a_date_of_a_series(
    client: TestClient, published: dict[str, str], xyz: dict[str, str]
) -> None:
    first = ogc_tile(client, published["series"], "coverage", "?datetime=2017-01-04")
    later = ogc_tile(client, published["series"], "coverage", "?datetime=2017-01-14")
    assert first != later
    assert later == xyz_tile(client, xyz["series"], "tif", "?time=2017-01-14")


def test_etag_and_not_modified(
    client: TestClient, published: dict[str, str], xyz: dict[str, str]
) -> None:
    url = (
        f"{published['min']}/map/tiles/WebMercatorQuad/"
        f"{TILE.z}/{TILE.y}/{TILE.x}"
    )
    first = client.get(url)
    xyz_answer = client.get(f"/services/{xyz['min']}/xyz/{TILE.z}/{TILE.x}/{TILE.y}.png")
    assert first.headers["etag"] == xyz_answer.headers["etag"]
    again = client.get(url, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""


def test_native_grid_tiles_start_at_the_layer_corner(
    client: TestClient, published: dict[str, str]
) -> None:
    base = f"{published['min']}"
    tileset = client.get(base + "/coverage/tiles/native").json()
    limits = tileset["tileMatrixSetLimits"][-1]
    url = (
        f"{base}/coverage/tiles/native/{limits['tileMatrix']}/"
        f"{limits['minTileRow']}/{limits['minTileCol']}"
    )
    data, transform, _ = read_tiff(client.get(url).content)
    assert (transform.c, transform.f, transform.a) == (652000.0, 5181000.0, 20.0)
    assert not data.mask.all()


def test_geodata_tiles_are_the_data_tiles(client: TestClient, published: dict[str, str]) -> None:
    """``…/tiles`` (geodata-tilesets' path) answers what ``…/coverage/tiles`` does."""
    base = published["min"]
    listing = client.get(f"{base}/tiles").json()
    assert listing == client.get(f"{base}/coverage/tiles").json()
    assert {t["dataType"] for t in listing["tilesets"]} == {"coverage"}
    tile = f"WebMercatorQuad/{TILE.z}/{TILE.y}/{TILE.x}"
    geodata = client.get(f"{base}/tiles/{tile}")
    assert geodata.headers["content-type"] == "image/tiff; application=geotiff"
    assert geodata.content == ogc_tile(client, base, "coverage")
