"""Discovery endpoints and CORS, as the API draft shows them."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.testclient import TestClient

from ondemand.catalog import Catalog
from ondemand.settings import Settings
from services import create_app


def test_capabilities_lists_endpoints(client: TestClient) -> None:
    body = client.get("/").json()
    paths = {e["path"] for e in body["endpoints"]}
    assert {"/data", "/data/{product_id}", "/processes", "/jobs/execute"} <= paths
    assert body["version"] == "0.3.0"


@pytest.mark.parametrize("product_id", ["Sentinel2A-L1C", "Sentinel2-L1C", "Sentinel-2A-L1C"])
def test_draft_product_ids_resolve(client: TestClient, product_id: str) -> None:
    body = client.get(f"/data/{product_id}").json()
    bands = {b["band_id"]: b for b in body["bands"]}
    assert set(bands) == {str(i) for i in range(1, 13)} | {"8a"}
    assert {bands[k].get("name") for k in ("2", "3", "4", "8")} == {"blue", "green", "red", "nir"}
    assert bands["4"]["res_m"] == 10 and bands["1"]["res_m"] == 60
    left, bottom, right, top = (body["extent"][k] for k in ("left", "bottom", "right", "top"))
    assert left <= 16.1 and right >= 16.6 and bottom <= 47.2 and top >= 48.6
    assert body["time"]["from"].startswith("2017-01")


def test_data_lists_every_collection(client: TestClient, demo_catalog: Catalog) -> None:
    ids = {d["product_id"] for d in client.get("/data").json()}
    assert ids == {c.id for c in demo_catalog}


def test_unknown_product_is_404(client: TestClient) -> None:
    response = client.get("/data/NOPE")
    assert response.status_code == 404
    assert "NOPE" in response.json()["message"]


def test_collections_are_stac(client: TestClient) -> None:
    body = client.get("/collections/S2_L2A_T32TPS_20M").json()
    assert body["type"] == "Collection" and body["id"] == "S2_L2A_T32TPS_20M"
    assert any(link["rel"] == "self" for link in body["links"])
    listed = client.get("/collections").json()["collections"]
    assert "S2_L2A_T32TPS_20M" in {c["id"] for c in listed}


@pytest.mark.parametrize("process_id", ["filter_bbox", "filter_daterange", "NDVI", "min_time"])
def test_draft_processes_are_described(client: TestClient, process_id: str) -> None:
    body = client.get(f"/processes/{process_id}").json()
    assert body["process_id"] and body["description"]
    assert "imagery" in body["args"] or "data" in body["args"]


def test_filter_bbox_declares_draft_arguments(client: TestClient) -> None:
    args = client.get("/processes/filter_bbox").json()["args"]
    assert {"left", "right", "top", "bottom", "srs"} <= set(args)


def test_process_list(client: TestClient) -> None:
    ids = [p["process_id"] for p in client.get("/processes").json()]
    assert {"load_collection", "filter_bbox", "ndvi", "min_time", "reduce_dimension"} <= set(ids)
    assert ids == sorted(ids) and len(ids) == len(set(ids))


def test_the_drafts_core_process_graph_is_declared(client: TestClient) -> None:
    """processgraphs.md lists ``process_graph`` among the core processes."""
    listed = {p["process_id"]: p for p in client.get("/processes").json()}
    one = client.get("/processes/process_graph").json()
    assert listed["process_graph"] == one
    assert {name for name, arg in one["args"].items() if arg["required"]} == {"imagery", "uri"}
    assert "stored" in one["description"]


def test_output_formats(client: TestClient) -> None:
    body = client.get("/capabilities/output_formats").json()
    assert body["default"] == "GTiff"
    assert {"GTiff", "PNG", "JPEG", "JSON"} <= set(body["formats"])
    assert "compress" in body["formats"]["GTiff"]


def test_preflight_answers_204_with_cors_headers(demo_data_dir: Path) -> None:
    """As the draft's example, for an origin the server allows (--cors-origin)."""
    settings = Settings(data_dir=demo_data_dir, demo=True,
                        cors_origins=("http://client.org:8080",))
    with TestClient(create_app(settings)) as allowed:
        response = allowed.options(
            "/jobs",
            headers={
                "Origin": "http://client.org:8080",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "Authorization, Content-Type",
            },
        )
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == "http://client.org:8080"
    assert response.headers["access-control-allow-credentials"] == "true"
    assert "Authorization" in response.headers["access-control-allow-headers"]
    assert "PATCH" in response.headers["access-control-allow-methods"]


def test_cors_headers_only_with_origin(client: TestClient) -> None:
    with_origin = client.get("/data", headers={"Origin": "http://a.example"})
    assert with_origin.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-origin" not in client.get("/data").headers


def test_unknown_route_is_json_404(client: TestClient) -> None:
    response = client.get("/nowhere")
    assert response.status_code == 404
    assert set(response.json()) == {"code", "message"}


def test_public_url_replaces_the_host_header(demo_data_dir: Path) -> None:
    settings = Settings(data_dir=demo_data_dir, demo=True,
                        public_url="https://maps.example.org/ondemand/")
    with TestClient(create_app(settings)) as public:
        job = public.post("/jobs/on_demand", json={"process_graph": {
            "process_id": "max_time", "args": {"imagery": {"product_id": "S2_L2A_T32TPS_20M"}}}})
        assert job.status_code == 200, job.text
        made = public.post("/services", json={"job_id": job.json()["job_id"], "type": "xyz"},
                           headers={"Host": "attacker.example"})
        assert made.status_code == 200, made.text
        url = made.json()["service_url"]
        assert url.startswith("https://maps.example.org/ondemand/services/"), url
        assert "attacker" not in public.get("/", headers={"Host": "attacker.example"}).text


@pytest.mark.parametrize("url", ["ftp://x.example", "https://", "https://u:p@x.example",
                                 "x.example"])
def test_unusable_public_url_is_refused(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    from services.cli import main

    assert main(["serve", "--public-url", url, "--port", "1"]) == 2
    assert "--public-url" in capsys.readouterr().err
