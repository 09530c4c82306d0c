"""openEO 1.2 over plain HTTP: every response validated against openeo-api 1.2.0, bad
input answered with the official error codes, and one store shared with the draft."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from ondemand.tokens import TokenStore
from services.api.openeo.errors import OPENEO_STATUS
from services.errors import ERRORS
from tests.openeo.conftest import ALICE, BOB, COLLECTIONS
from tests.support.openeo_spec import official_errors, validate_httpx

API = "/openeo/1.2"


def graph(**save: Any) -> dict[str, Any]:
    """A small NDVI graph of the single Sentinel-2 scene, saved as ``save`` says."""
    return {
        "load": {"process_id": "load_collection", "arguments": {
            "id": COLLECTIONS[1],
            "spatial_extent": {"west": -11.6, "south": 24.7, "east": -11.3, "north": 24.9},
        }},
        "ndvi": {"process_id": "ndvi", "arguments": {"data": {"from_node": "load"}}},
        "save": {"process_id": "save_result", "arguments": {
            "data": {"from_node": "ndvi"}, "format": save.get("format", "GTiff"),
            "options": save.get("options", {})}, "result": True},
    }


class Api:
    """An httpx client of the 1.2 API whose every response is validated."""

    def __init__(self, base: str, token: str | None) -> None:
        headers = {"Authorization": f"Bearer basic//{token}"} if token else {}
        self.http = httpx.Client(base_url=base + API, headers=headers, timeout=120)

    def __enter__(self) -> Api:
        return self

    def __exit__(self, *exc: object) -> None:
        self.http.close()

    def __getattr__(self, method: str) -> Any:
        def call(path: str, **kwargs: Any) -> httpx.Response:
            return validate_httpx(self.http.request(method.upper(), path, **kwargs))
        return call


def token(base: str, user: tuple[str, str]) -> str:
    response = validate_httpx(httpx.get(f"{base}{API}/credentials/basic", auth=user))
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


@pytest.fixture(scope="module")
def alice_api(server: dict[str, Any]) -> Iterator[Api]:
    api = Api(server["url"], token(server["url"], ALICE))
    yield api
    api.http.close()


@pytest.fixture(scope="module")
def bob_api(server: dict[str, Any]) -> Iterator[Api]:
    api = Api(server["url"], token(server["url"], BOB))
    yield api
    api.http.close()


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code and body["message"] and body["id"]
    return dict(body)


def test_well_known_lists_both_versions(server: dict[str, Any]) -> None:
    response = validate_httpx(httpx.get(f"{server['url']}/.well-known/openeo"))
    versions = {v["api_version"]: v for v in response.json()["versions"]}
    assert versions["1.2.0"]["url"] == f"{server['url']}/openeo/1.2/"
    assert versions["1.2.0"]["production"] is True
    assert versions["0.3.0"]["url"] == f"{server['url']}/"


@pytest.mark.parametrize("path", [
    "/", "/conformance", "/collections", f"/collections/{COLLECTIONS[0]}", "/processes",
    "/file_formats", "/service_types", "/udf_runtimes", "/me", "/jobs", "/services", "/files",
])
def test_discovery_and_listings_conform(alice_api: Api, path: str) -> None:
    assert alice_api.get(path).status_code == 200


def test_capabilities_list_the_endpoints_the_server_has(alice_api: Api) -> None:
    body = alice_api.get("/").json()
    assert body["api_version"] == "1.2.0"
    endpoints = {e["path"]: set(e["methods"]) for e in body["endpoints"]}
    assert endpoints["/jobs/{job_id}/results"] == {"GET", "POST", "DELETE"}
    assert endpoints["/services/{service_id}"] == {"GET", "PATCH", "DELETE"}
    assert "https://api.openeo.org/1.2.0" in body["conformsTo"]


def test_file_formats_and_service_types(alice_api: Api) -> None:
    formats = alice_api.get("/file_formats").json()
    assert {"GTiff", "PNG", "JSON", "CSV", "GeoJSON", "GPKG"} <= set(formats["output"])
    assert "compress" in formats["output"]["GTiff"]["parameters"]
    types = alice_api.get("/service_types").json()
    assert set(types) == {"XYZ", "WMTS", "WCS"}
    assert types["WCS"]["configuration"]["version"]["default"] == "2.0.1"


def test_listed_processes_declare_the_official_required_parameters(alice_api: Api) -> None:
    from tests.support.openeo_spec import official_process

    compared = 0
    for process in alice_api.get("/processes").json()["processes"]:
        official = official_process(process["id"])
        if official is None:
            continue
        names = [p["name"] for p in process["parameters"]]
        required = [p["name"] for p in official["parameters"] if not p.get("optional")]
        assert set(required) <= set(names), (process["id"], names, required)
        compared += 1
    assert compared >= 20


def test_error_table_uses_the_official_statuses() -> None:
    official = official_errors()
    used = {code: OPENEO_STATUS[code] for code in (row.openeo for row in ERRORS.values())}
    for code, status in used.items():
        if code in official:
            assert official[code]["http"] == status, code
    assert {"ProcessUnsupported", "ProcessParameterInvalid", "TokenInvalid",
            "CollectionNotFound", "JobNotFinished"} <= set(used) & set(official)


def test_sync_result_keeps_save_result_format(alice_api: Api) -> None:
    response = alice_api.post("/result", json={"process": {"process_graph": graph(
        format="PNG")}})
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    assert response.content.startswith(b"\x89PNG")
    assert response.headers["openeo-identifier"]


@pytest.mark.parametrize(("body", "status", "code", "names"), [
    ({"process": {"process_graph": {"x": {"process_id": "no_such_process", "arguments": {},
                                          "result": True}}}},
     400, "ProcessUnsupported", "no_such_process"),
    ({"process": {"process_graph": {**graph(), "ndvi": {"process_id": "ndvi", "arguments": {
        "data": {"from_node": "load"}, "nir": 3.5}}}}},
     400, "ProcessParameterInvalid", "nir"),
    ({"process": {"process_graph": {**graph(), "load": {"process_id": "load_collection",
                                                        "arguments": {"id": "nope"}}}}},
     404, "CollectionNotFound", "nope"),
    ({"process": {"process_graph": graph(format="Zarr")}}, 400, "FormatUnsupported", "Zarr"),
    ({"process": {"process_graph": graph(options={"no_such_option": 1})}},
     400, "FormatArgumentUnsupported", "no_such_option"),
    ({"process": {}}, 400, "ProcessGraphMissing", "process_graph"),
])
def test_bad_process_graphs_get_official_codes(
    alice_api: Api, body: dict[str, Any], status: int, code: str, names: str
) -> None:
    error = assert_error(alice_api.post("/result", json=body), status, code)
    assert names in error["message"]
    validation = alice_api.post("/validation", json=body.get("process", {}))
    if code != "ProcessGraphMissing":
        assert validation.status_code == 200
        assert validation.json()["errors"][0]["code"] == code


def test_valid_graph_validates_without_errors(alice_api: Api) -> None:
    assert alice_api.post("/validation", json={"process_graph": graph()}).json() == {
        "errors": []}


def test_authentication_errors(server: dict[str, Any]) -> None:
    with Api(server["url"], None) as anonymous:
        assert_error(anonymous.get("/jobs"), 401, "AuthenticationRequired")
    wrong = validate_httpx(httpx.get(f"{server['url']}{API}/credentials/basic",
                                     auth=("alice", "wrong")))
    assert_error(wrong, 403, "CredentialsInvalid")
    with Api(server["url"], "not-a-token") as forged:
        assert_error(forged.get("/jobs"), 403, "TokenInvalid")
    store = server["data_dir"] / "jobs.sqlite"  # the server's own store: the token is known
    live, _ = TokenStore(store, server["settings"].token_ttl_seconds).issue("alice")
    with Api(server["url"], live) as on_time:
        assert on_time.get("/me").status_code == 200
    expired, _ = TokenStore(store, -1.0).issue("alice")
    with Api(server["url"], expired) as late:
        assert_error(late.get("/me"), 403, "TokenInvalid")
    oidc = validate_httpx(httpx.get(f"{server['url']}{API}/me",
                                    headers={"Authorization": "Bearer oidc/x/y"}))
    assert oidc.status_code == 403


def test_unknown_resources_are_404_with_their_codes(alice_api: Api) -> None:
    assert_error(alice_api.get("/jobs/nope"), 404, "JobNotFound")
    assert_error(alice_api.get("/services/nope"), 404, "ServiceNotFound")
    assert_error(alice_api.get("/files/nope.json"), 404, "FileNotFound")
    assert_error(alice_api.get("/collections/nope"), 404, "CollectionNotFound")
    response = alice_api.http.get("/no/such/endpoint")
    assert response.status_code == 404 and response.json()["code"] == "NotFound"


def test_jobs_are_their_owners_and_shared_with_the_draft(
    server: dict[str, Any], alice_api: Api, bob_api: Api
) -> None:
    created = alice_api.post("/jobs", json={"title": "ndvi", "process": {
        "process_graph": graph()}})
    assert created.status_code == 201
    job_id = created.headers["openeo-identifier"]
    assert created.headers["location"].endswith(f"{API}/jobs/{job_id}")
    assert_error(bob_api.get(f"/jobs/{job_id}"), 404, "JobNotFound")
    assert_error(bob_api.post(f"/jobs/{job_id}/results"), 404, "JobNotFound")
    assert_error(bob_api.delete(f"/jobs/{job_id}"), 404, "JobNotFound")
    with httpx.Client(base_url=server["url"], auth=ALICE, timeout=60) as draft:
        seen = draft.get(f"/jobs/{job_id}").json()
        assert seen["title"] == "ndvi" and seen["process_graph"] == graph()
        draft_job = draft.post("/jobs", json={"process_graph": graph(), "title": "draft"})
        draft_id = draft_job.json()["job_id"]
    listed = {j["id"]: j for j in alice_api.get("/jobs").json()["jobs"]}
    assert listed[job_id]["status"] == "created" and listed[draft_id]["title"] == "draft"
    assert alice_api.patch(f"/jobs/{job_id}", json={"title": "renamed"}).status_code == 204
    assert alice_api.get(f"/jobs/{job_id}").json()["title"] == "renamed"
    assert_error(alice_api.get(f"/jobs/{job_id}/results"), 400, "JobNotFinished")
    assert alice_api.delete(f"/jobs/{draft_id}").status_code == 204
    assert_error(alice_api.get(f"/jobs/{draft_id}"), 404, "JobNotFound")


def wait_finished(api: Api, job_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        job = api.get(f"/jobs/{job_id}").json()
        if job["status"] in ("finished", "error", "canceled"):
            return dict(job)
        time.sleep(0.5)
    raise AssertionError(f"job {job_id} did not finish")


def test_batch_results_download_with_head_and_range(alice_api: Api) -> None:
    job_id = alice_api.post("/jobs", json={"process": {"process_graph": graph()}}).headers[
        "openeo-identifier"]
    assert alice_api.post(f"/jobs/{job_id}/results").status_code == 202
    assert wait_finished(alice_api, job_id)["status"] == "finished"
    item = alice_api.get(f"/jobs/{job_id}/results").json()
    asset = item["assets"]["result.tif"]
    assert asset["roles"] == ["data"]
    head = alice_api.http.head(asset["href"])
    assert head.status_code == 200 and head.headers["accept-ranges"] == "bytes"
    size = int(head.headers["content-length"])
    assert size == asset["file:size"]
    whole = alice_api.http.get(asset["href"]).content
    part = alice_api.http.get(asset["href"], headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.content == whole[100:200]
    sync = alice_api.post("/result", json={"process": {"process_graph": graph()}})
    assert sync.status_code == 200
    logs = alice_api.get(f"/jobs/{job_id}/logs").json()["logs"]
    assert [e["message"] for e in logs][:2] == ["Job created", "Batch run queued"]
    assert alice_api.delete(f"/jobs/{job_id}/results").status_code == 204
    assert alice_api.get(f"/jobs/{job_id}").json()["status"] == "canceled"
    assert_error(alice_api.get(f"/jobs/{job_id}/results"), 400, "JobNotFinished")


def test_services_from_a_process_graph(server: dict[str, Any], alice_api: Api,
                                       bob_api: Api) -> None:
    created = alice_api.post("/services", json={
        "type": "wcs", "process": {"process_graph": graph()},
        "configuration": {"version": "1.0.0"}, "title": "ndvi coverage"})
    assert created.status_code == 201
    service_id = created.headers["openeo-identifier"]
    service = alice_api.get(f"/services/{service_id}").json()
    assert service["type"] == "WCS" and service["configuration"] == {"version": "1.0.0"}
    caps = httpx.get(service["url"], params={"SERVICE": "WCS", "REQUEST": "GetCapabilities"})
    assert caps.status_code == 200 and b"WCS_Capabilities" in caps.content
    assert_error(bob_api.get(f"/services/{service_id}"), 404, "ServiceNotFound")
    assert alice_api.patch(f"/services/{service_id}", json={"enabled": False}).status_code == 204
    assert httpx.get(service["url"], params={"SERVICE": "WCS", "REQUEST": "GetCapabilities"}
                     ).status_code == 404
    with httpx.Client(base_url=server["url"], auth=ALICE, timeout=60) as draft:
        assert draft.get(f"/services/{service_id}").json()["service_type"] == "wcs"
    assert alice_api.delete(f"/services/{service_id}").status_code == 204
    assert_error(alice_api.get(f"/services/{service_id}"), 404, "ServiceNotFound")


@pytest.mark.parametrize(("body", "code"), [
    ({"type": "WMS", "process": {"process_graph": graph()}}, "ServiceUnsupported"),
    ({"type": "XYZ", "process": {"process_graph": graph()}, "configuration": {"size": 3}},
     "ServiceConfigInvalid"),
    ({"type": "XYZ"}, "ProcessGraphMissing"),
])
def test_bad_services(alice_api: Api, body: dict[str, Any], code: str) -> None:
    assert_error(alice_api.post("/services", json=body), 400, code)


def test_files_are_the_drafts_files(server: dict[str, Any], alice_api: Api) -> None:
    put = alice_api.put("/files/zones/a.geojson", content=b'{"type": "FeatureCollection"}')
    assert put.status_code == 200 and put.json()["path"] == "zones/a.geojson"
    with httpx.Client(base_url=server["url"], auth=ALICE, timeout=60) as draft:
        names = [f["name"] for f in draft.get("/users/me/files").json()]
        assert "zones/a.geojson" in names
    listed = [f["path"] for f in alice_api.get("/files").json()["files"]]
    assert "zones/a.geojson" in listed
    assert alice_api.http.get("/files/zones/a.geojson").content == (
        b'{"type": "FeatureCollection"}')
    assert_error(alice_api.put("/files/%2E%2E/escape", content=b"x"), 400, "FilePathInvalid")
    assert alice_api.delete("/files/zones/a.geojson").status_code == 204
    assert_error(alice_api.get("/files/zones/a.geojson"), 404, "FileNotFound")


def test_browsers_may_read_the_openeo_headers(server: dict[str, Any]) -> None:
    response = httpx.get(f"{server['url']}{API}/", headers={"Origin": "https://editor.openeo.org"})
    header = response.headers["access-control-expose-headers"]
    exposed = {h.strip().lower() for h in header.split(",")}
    assert {"location", "openeo-identifier", "openeo-costs"} <= exposed


def test_table_batch_results_conform(server: dict[str, Any], alice_api: Api,
                                     shared_data: Any) -> None:
    polygons = (shared_data / COLLECTIONS[0] / "nycd.gpkg").read_bytes()
    assert alice_api.put("/files/nycd.gpkg", content=polygons).status_code == 200
    zonal = {
        "load": {"process_id": "load_collection", "arguments": {
            "id": COLLECTIONS[0], "temporal_extent": ["2018-01-31", "2018-02-01"],
            "bands": ["B4"]}},
        "zonal": {"process_id": "zonal_statistics", "arguments": {
            "data": {"from_node": "load"}, "regions": "/users/me/files/nycd.gpkg",
            "func": "mean"}, "result": True},
    }
    job_id = alice_api.post("/jobs", json={"process": {"process_graph": zonal}}).headers[
        "openeo-identifier"]
    assert alice_api.post(f"/jobs/{job_id}/results").status_code == 202
    assert wait_finished(alice_api, job_id)["status"] == "finished"
    assets = alice_api.get(f"/jobs/{job_id}/results").json()["assets"]
    (asset,) = assets.values()
    assert asset["type"] == "application/geopackage+sqlite3"
    table = alice_api.http.get(asset["href"])
    assert table.status_code == 200 and table.content.startswith(b"SQLite format 3")


HOSTILE_BODIES = [
    b"not json", b"[]", b"42", b"null", b'{"process": []}', b'{"process": {"process_graph": 7}}',
    b'{"process": {"process_graph": {"a": 1}}}', b'{"process": {"process_graph": {"a": {}}}}',
    b'{"process": {"process_graph": {"a": {"process_id": 5, "arguments": {}, "result": true}}}}',
    b'{"process": {"process_graph": {"a": {"process_id": "ndvi", "arguments": [],'
    b' "result": true}}}}',
    b'{"process": {"process_graph": {"a": {"process_id": "save_result", "arguments":'
    b' {"data": {"from_node": "a"}}, "result": true}}}}',
    b'{"type": ["XYZ"], "process": {"process_graph": {}}}', b'{"title": 5}',
]


@pytest.mark.parametrize("method,path", [
    ("POST", "/result"), ("POST", "/validation"), ("POST", "/jobs"), ("POST", "/services"),
])
@pytest.mark.parametrize("body", HOSTILE_BODIES, ids=range(len(HOSTILE_BODIES)))
def test_hostile_bodies_are_client_errors(alice_api: Api, method: str, path: str,
                                          body: bytes) -> None:
    response = getattr(alice_api, method.lower())(path, content=body,
                                 headers={"Content-Type": "application/json"})
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert response.json()["code"] not in ("Internal", 500)
