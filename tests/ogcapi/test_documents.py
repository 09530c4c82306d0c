"""Landing page, conformance, collections and tile matrix sets, validated against schemas
generated from independent models: titiler.core's OGC API – Tiles models (landing,
conformance, tilesets) and morecantile's OGC 2D-TMS 2.0 model."""

from __future__ import annotations

from typing import Any

import jsonschema
import morecantile
import pytest
from morecantile.models import TileMatrixSet
from pydantic import BaseModel
from starlette.testclient import TestClient
from titiler.core.models import OGC

from ondemand.catalog import Catalog

REL = "http://www.opengis.net/def/rel/ogc/1.0/"


def validate(doc: Any, model: type[BaseModel]) -> None:
    """Validate ``doc`` against the JSON schema generated from ``model``."""
    jsonschema.validate(doc, model.model_json_schema())


def rels(doc: dict[str, Any]) -> dict[str, str]:
    return {link["rel"]: link["href"] for link in doc["links"]}


def test_landing_page_links_service_desc_conformance_data(client: TestClient) -> None:
    doc = client.get("/ogcapi/").json()
    validate(doc, OGC.Landing)
    links = rels(doc)
    assert links["service-desc"].endswith("/ogcapi/api")
    assert links["conformance"].endswith("/ogcapi/conformance")
    assert links["data"].endswith("/ogcapi/collections")
    api = client.get("/ogcapi/api")
    assert api.headers["content-type"].startswith("application/vnd.oai.openapi+json")


def test_conformance_validates(client: TestClient) -> None:
    validate(client.get("/ogcapi/conformance").json(), OGC.Conformance)


def test_collections_list_jobs_and_catalog(
    client: TestClient, services: dict[str, str], demo_catalog: Catalog
) -> None:
    doc = client.get("/ogcapi/collections").json()
    ids = [c["id"] for c in doc["collections"]]
    assert set(services.values()) <= set(ids)
    assert {c.id for c in demo_catalog} <= set(ids)
    by_id = {c["id"]: c for c in doc["collections"]}
    for service_id in services.values():
        self_href = rels(by_id[service_id])["self"]
        assert self_href.endswith(f"/services/{service_id}/ogcapi/collections/{service_id}")
        assert client.get(self_href).json()["id"] == service_id
    for collection in demo_catalog:
        assert rels(by_id[collection.id])["self"].endswith(f"/ogcapi/collections/{collection.id}")


def test_service_landing_page_has_its_job_only(
    client: TestClient, services: dict[str, str]
) -> None:
    root = f"/services/{services['min']}/ogcapi"
    doc = client.get(root + "/").json()
    validate(doc, OGC.Landing)
    links = rels(doc)
    assert links["data"].endswith(root + "/collections")
    assert links["service-desc"].endswith(root + "/api")
    listing = client.get(links["data"]).json()
    assert [c["id"] for c in listing["collections"]] == [services["min"]]
    assert client.get(root + "/conformance").json() == client.get("/ogcapi/conformance").json()
    assert client.get(root + "/api").json()["servers"][0]["url"].endswith(root)


def test_job_collection_extent_crs_and_links(client: TestClient, published: dict[str, str]) -> None:
    doc = client.get(f"{published['min']}").json()
    (west, south, east, north), = doc["extent"]["spatial"]["bbox"]
    assert 10.98 < west < east < 11.26 and 46.58 < south < north < 46.77
    interval = doc["extent"]["temporal"]["interval"]
    assert interval == [["2017-01-04T10:05:00Z", "2017-01-24T10:05:00Z"]]
    assert doc["storageCrs"] == "http://www.opengis.net/def/crs/EPSG/0/32632"
    assert doc["storageCrs"] in doc["crs"]
    links = rels(doc)
    for rel in ("tilesets-map", "tilesets-coverage", "coverage"):
        assert client.get(links[REL + rel]).status_code == 200, rel


def test_series_collection_lists_its_dates(client: TestClient, published: dict[str, str]) -> None:
    doc = client.get(f"{published['series']}").json()
    values = doc["extent"]["temporal"]["values"]
    assert values[0] == "2017-01-04T10:05:00Z" and values == sorted(values) and len(values) > 1
    carried = client.get(f"{published['series']}?datetime=2017-01-14").json()
    assert rels(carried)[REL + "coverage"].endswith("/coverage?datetime=2017-01-14")


@pytest.mark.parametrize("tms_id", ["WebMercatorQuad", "WorldCRS84Quad"])
def test_tile_matrix_sets_are_2d_tms_json(client: TestClient, tms_id: str) -> None:
    listing = client.get("/ogcapi/tileMatrixSets").json()
    validate(listing, OGC.TileMatrixSetList)
    doc = client.get(f"/ogcapi/tileMatrixSets/{tms_id}").json()
    validate(doc, TileMatrixSet)
    parsed = TileMatrixSet.model_validate(doc)
    assert parsed.id == tms_id and len(parsed.tileMatrices) > 20


@pytest.mark.parametrize("kind", ["map", "coverage"])
def test_tilesets_and_tileset_validate(
    client: TestClient, published: dict[str, str], kind: str
) -> None:
    listing = client.get(f"{published['min']}/{kind}/tiles").json()
    validate(listing, OGC.TileSetList)
    assert {t["dataType"] for t in listing["tilesets"]} == {kind}
    for summary in listing["tilesets"]:
        self_href = rels(summary)["self"]
        tileset = client.get(self_href).json()
        validate(tileset, OGC.TileSet)
        scheme = client.get(rels(tileset)[REL + "tiling-scheme"]).json()
        validate(scheme, TileMatrixSet)
        items = [link for link in tileset["links"] if link["rel"] == "item"]
        assert items and all("{tileMatrix}/{tileRow}/{tileCol}" in i["href"] for i in items)


def test_tileset_limits_are_the_tiles_over_the_extent(
    client: TestClient, published: dict[str, str]
) -> None:
    """The limits of each level are the tiles morecantile finds over the collection's bbox."""
    base = f"{published['min']}"
    (bbox,) = client.get(base).json()["extent"]["spatial"]["bbox"]
    tileset = client.get(f"{base}/map/tiles/WebMercatorQuad").json()
    web = morecantile.tms.get("WebMercatorQuad")
    assert len(tileset["tileMatrixSetLimits"]) > 3
    for limit in tileset["tileMatrixSetLimits"]:
        tiles = list(web.tiles(*bbox, zooms=[int(limit["tileMatrix"])]))
        assert (limit["minTileCol"], limit["maxTileCol"]) == (
            min(t.x for t in tiles),
            max(t.x for t in tiles),
        )
        assert (limit["minTileRow"], limit["maxTileRow"]) == (
            min(t.y for t in tiles),
            max(t.y for t in tiles),
        )


def test_native_tile_matrix_set_lives_under_its_collection(
    client: TestClient, published: dict[str, str]
) -> None:
    tileset = client.get(
        f"{published['min']}/coverage/tiles/native"
    ).json()
    scheme = rels(tileset)[REL + "tiling-scheme"]
    assert f"{published['min']}/tileMatrixSets/UTM32N-20m" in scheme
    doc = client.get(scheme).json()
    parsed = TileMatrixSet.model_validate(doc)
    assert parsed.tileMatrices[-1].cellSize == 20.0
    assert list(parsed.tileMatrices[-1].pointOfOrigin) == [652000.0, 5181000.0]
