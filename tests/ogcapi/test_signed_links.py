"""An owner-only OGC API service read from a signed URL: a client that only follows links
(as a browser map does, with no credentials) reaches every document and a tile, each
link carrying the signature; without it, or with a tampered one, nothing is served."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from services import create_app
from tests.support.accounts import ALICE, two_user_settings
from tests.support.seed import use_case_1_job

DOCUMENT_TYPES = ("application/json", "application/vnd.oai.openapi+json;version=3.0")


@pytest.fixture(scope="module")
def app(demo_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = two_user_settings(tmp_path_factory.mktemp("signed-ogcapi"), demo_data_dir)
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.fixture(scope="module")
def service(app: TestClient) -> dict[str, str]:
    """Alice's owner-only ogcapi service of use case 1 and a signature of it."""
    job_id = app.post("/jobs", json=use_case_1_job(), auth=ALICE).json()["job_id"]
    assert app.post(f"/jobs/{job_id}/on_demand", auth=ALICE).status_code == 204
    created = app.post("/services", auth=ALICE, json={
        "job_id": job_id, "type": "ogcapi", "args": {"auth": True}})
    assert created.status_code == 200, created.text
    service_id = created.json()["service_id"]
    signature = app.get(f"/jobs/{job_id}/viewer/signature", params={"service": service_id},
                        auth=ALICE)
    assert signature.status_code == 200, signature.text
    return {"id": service_id, "root": created.json()["service_url"],
            "query": signature.json()["query"]}


def _hrefs(document: Any) -> Iterator[dict[str, Any]]:
    if isinstance(document, list):
        for value in document:
            yield from _hrefs(value)
    elif isinstance(document, dict):
        if isinstance(document.get("href"), str):
            yield document
        for value in document.values():
            yield from _hrefs(value)


def test_following_links_from_a_signed_landing_page_reaches_a_tile(
    app: TestClient, service: dict[str, str]
) -> None:
    root, query = service["root"], service["query"]
    todo, seen, templates = [f"{root}/?{query}"], set(), []
    while todo:
        url = todo.pop()
        if url in seen:
            continue
        seen.add(url)
        response = app.get(url)  # no credentials: the signature only
        assert response.status_code == 200, (url, response.text)
        for link in _hrefs(response.json()):
            href = link["href"]
            if not href.startswith(root):
                continue
            assert query in href, (url, href)
            if "{" in href:
                templates.append(href)
            elif link.get("type") in DOCUMENT_TYPES:
                todo.append(href)
    assert len(seen) >= 10 and templates
    web = next(u for u in seen if u.split("?")[0].endswith("/map/tiles/WebMercatorQuad"))
    tileset = app.get(web)
    limit = tileset.json()["tileMatrixSetLimits"][-1]
    template = next(t for t in templates if "/map/tiles/WebMercatorQuad/" in t and "f=png" in t)
    tile = app.get(template.replace("{tileMatrix}", limit["tileMatrix"])
                   .replace("{tileRow}", str(limit["minTileRow"]))
                   .replace("{tileCol}", str(limit["minTileCol"])))
    assert tile.status_code == 200, tile.text
    assert tile.headers["content-type"] == "image/png"


def test_links_read_with_credentials_carry_no_signature(
    app: TestClient, service: dict[str, str]
) -> None:
    landing = app.get(f"{service['root']}/", auth=ALICE)
    assert landing.status_code == 200
    assert not any("sig=" in link["href"] for link in _hrefs(landing.json()))


@pytest.mark.parametrize("how", ["unsigned", "tampered"])
def test_without_a_valid_signature_nothing_is_served(
    app: TestClient, service: dict[str, str], how: str
) -> None:
    query = "" if how == "unsigned" else service["query"][:-4] + "0000"
    response = app.get(f"{service['root']}/collections?{query}")
    assert response.status_code in (401, 404), response.text
    assert "links" not in response.json()
