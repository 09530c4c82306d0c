"""The viewer's pages over HTTP: the HTML index, publishing on open, the page's data and links."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.requests import Request
from starlette.testclient import TestClient

from ondemand.accounts import AccountFile
from ondemand.demo import ensure_demo_catalog
from ondemand.formats import legend
from ondemand.settings import Settings
from services import create_app
from services.maps.viewer import prefers_html
from services.registry import PROTOCOLS
from tests.support.seed import use_case_1_job

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def series_graph() -> dict[str, Any]:
    return dict(use_case_1_job()["process_graph"]["args"]["imagery"])


def create_job(client: TestClient, title: str = "viewer test") -> str:
    response = client.post("/jobs", json={"process_graph": series_graph(), "title": title})
    assert response.status_code == 200, response.text
    return str(response.json()["job_id"])


def page_config(html: str) -> dict[str, Any]:
    text = html.split('<script type="application/json" id="viewer-config">', 1)[1]
    config: dict[str, Any] = json.loads(text.split("</script>", 1)[0])
    return config


def request_with(accept: str | None, query: str = "") -> Request:
    headers = [] if accept is None else [(b"accept", accept.encode())]
    return Request({"type": "http", "headers": headers, "query_string": query.encode()})


@pytest.mark.parametrize(
    ("accept", "query", "html"),
    [
        (BROWSER, "", True),
        ("text/html", "", True),
        ("*/*", "", False),
        (None, "", False),
        ("application/json", "", False),
        ("application/json, text/html;q=0.5", "", False),
        ("text/html;q=0", "", False),
        (BROWSER, "f=json", False),
        ("*/*", "f=html", True),
    ],
    ids=[
        "browser", "html", "curl", "none", "json", "json-first", "html-refused", "f-json", "f-html"
    ],
)
def test_prefers_html(accept: str | None, query: str, html: bool) -> None:
    assert prefers_html(request_with(accept, query)) is html


def test_index_lists_collections_and_jobs(client: TestClient) -> None:
    job_id = create_job(client, "index <b>job</b>")
    response = client.get("/", headers={"accept": BROWSER})
    assert response.headers["content-type"].startswith("text/html")
    collections = [c["product_id"] for c in client.get("/data").json()]
    assert collections and all(f'href="/collections/{c}"' in response.text for c in collections)
    assert f'href="/jobs/{job_id}/viewer"' in response.text
    assert "index &lt;b&gt;job&lt;/b&gt;" in response.text  # titles are escaped
    assert '<td class="status">submitted</td>' in response.text


def test_json_clients_still_get_capabilities(client: TestClient) -> None:
    body = client.get("/").json()
    assert body["title"] == "ondemand"
    paths = {e["path"] for e in body["endpoints"]}
    assert {"/jobs/{job_id}/viewer", "/services/{service_id}/point"} <= paths


def test_viewer_of_a_stopped_job_does_not_start_it(client: TestClient) -> None:
    job_id = create_job(client)
    response = client.get(f"/jobs/{job_id}/viewer")
    assert response.status_code == 200
    assert 'id="start"' in response.text and "not running on demand" in response.text
    assert client.get(f"/jobs/{job_id}").json()["status"] == "submitted"
    assert not [s for s in client.get("/services").json() if s["job_id"] == job_id]


def test_viewer_of_an_unknown_job_is_404(client: TestClient) -> None:
    assert client.get("/jobs/nope/viewer").status_code == 404


@pytest.fixture(scope="module")
def running(client: TestClient) -> tuple[str, dict[str, Any]]:
    job_id = create_job(client, "viewer <series>")
    assert client.post(f"/jobs/{job_id}/on_demand").status_code == 204
    response = client.get(f"/jobs/{job_id}/viewer")
    assert response.status_code == 200, response.text
    return job_id, page_config(response.text)


def test_opening_publishes_once(client: TestClient, running: tuple[str, dict[str, Any]]) -> None:
    job_id, _ = running
    services = client.get("/services").json()
    kinds = sorted(s["service_type"] for s in services if s["job_id"] == job_id)
    assert kinds == ["ogcapi", "wcs", "wmts", "xyz"]  # one per protocol with viewer links
    assert kinds == sorted(p.viewer.service_type for p in PROTOCOLS if p.viewer is not None)
    again = page_config(client.get(f"/jobs/{job_id}/viewer").text)
    assert again["links"] == running[1]["links"]
    assert len([s for s in client.get("/services").json() if s["job_id"] == job_id]) == 4


def test_page_data_matches_tilejson(
    client: TestClient, running: tuple[str, dict[str, Any]]
) -> None:
    _, config = running
    tilejson = client.get(config["links"]["tilejson"]).json()
    assert config["bounds"] == tilejson["bounds"]
    assert config["times"] == tilejson["times"]
    assert (config["minzoom"], config["maxzoom"]) == (tilejson["minzoom"], tilejson["maxzoom"])
    assert config["style"] == {"colormap": "rdylgn", "rescale": [-1.0, 1.0]}  # NDVI default
    assert tilejson["tiles"][0].startswith(config["links"]["xyz_template"])


def test_title_is_escaped(client: TestClient, running: tuple[str, dict[str, Any]]) -> None:
    job_id, _ = running
    text = client.get(f"/jobs/{job_id}/viewer").text
    assert "<title>viewer &lt;series&gt;: viewer</title>" in text
    assert "viewer <series>" not in text.split('id="viewer-config">')[1]  # \u003c in the JSON


def test_links_work(client: TestClient, running: tuple[str, dict[str, Any]]) -> None:
    job_id, config = running
    links = config["links"]
    capabilities = client.get(links["wmts_capabilities"])
    assert capabilities.status_code == 200 and job_id in capabilities.text
    wcs = client.get(links["wcs"], params={"SERVICE": "WCS", "REQUEST": "GetCapabilities"})
    assert wcs.status_code == 200 and b"Capabilities" in wcs.content
    tile = client.get(
        links["xyz_template"].format(z=12, x=2174, y=1446), params={"time": config["times"][0]}
    )
    assert tile.status_code == 200 and tile.headers["content-type"] == "image/png"
    assert f"layers={job_id}&" in links["qgis_wmts"]
    assert links["qgis_wmts"].endswith("&url=" + links["wmts_capabilities"])
    assert "url=http://testserver/services/" in links["qgis_xyz"]
    assert "/xyz/%7Bz%7D/%7Bx%7D/%7By%7D.png" in links["qgis_xyz"]


def test_job_and_service_link_the_viewer(
    client: TestClient, running: tuple[str, dict[str, Any]]
) -> None:
    job_id, _ = running
    viewer = f"http://testserver/jobs/{job_id}/viewer"
    assert {"rel": "viewer", "href": viewer, "type": "text/html"} in client.get(
        f"/jobs/{job_id}"
    ).json()["links"]
    service = next(s for s in client.get("/services").json() if s["job_id"] == job_id)
    assert {"rel": "viewer", "href": viewer, "type": "text/html"} in service["links"]


@pytest.mark.parametrize(("colormap", "low", "high"), [("viridis", -1, 1), ("gray", 0, 2500)])
def test_legend(client: TestClient, colormap: str, low: float, high: float) -> None:
    response = client.get(
        "/viewer/legend.json", params={"colormap": colormap, "rescale": f"{low},{high}"}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["rescale"] == [low, high]
    assert body["stops"] == [
        {**s, "rgba": list(s["rgba"])} for s in legend(colormap, (low, high))
    ]


def test_legend_rejects_bad_style(client: TestClient) -> None:
    assert client.get("/viewer/legend.json", params={"colormap": "nope"}).status_code == 400
    assert client.get("/viewer/legend.json", params={"rescale": "2,1"}).status_code == 400


@pytest.mark.parametrize(
    ("path", "media"),
    [
        ("/static/leaflet/leaflet.js", "javascript"),
        ("/static/leaflet/leaflet.css", "text/css"),
        ("/static/viewer/viewer.js", "javascript"),
        ("/static/viewer/chart.js", "javascript"),
    ],
)
def test_assets_are_served_locally(client: TestClient, path: str, media: str) -> None:
    response = client.get(path)
    assert response.status_code == 200 and media in response.headers["content-type"]
    assert len(response.content) > 1000


@pytest.fixture(scope="module")
def secured(demo_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    users = tmp_path_factory.mktemp("viewer-users") / "users.json"
    AccountFile(users).add("alice", "correct horse")
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("viewer-secured"),
        catalogs=tuple(ensure_demo_catalog(demo_data_dir)),
        users_file=users,
    )
    with TestClient(create_app(settings)) as client:
        yield client


def test_index_with_accounts(secured: TestClient) -> None:
    alice = {"Authorization": "Basic " + base64.b64encode(b"alice:correct horse").decode()}
    job = secured.post("/jobs", json={"process_graph": series_graph()}, headers=alice).json()
    anonymous = secured.get("/", headers={"accept": BROWSER})
    assert anonymous.status_code == 200 and "sign in" in anonymous.text
    assert job["job_id"] not in anonymous.text
    challenge = secured.get("/?f=html&login=1")
    assert challenge.status_code == 401 and "Basic" in challenge.headers["www-authenticate"]
    signed_in = secured.get("/", headers={"accept": BROWSER, **alice})
    assert f'href="/jobs/{job["job_id"]}/viewer"' in signed_in.text
    assert secured.get(f"/jobs/{job['job_id']}/viewer").status_code == 401
    assert secured.get(f"/jobs/{job['job_id']}/viewer", headers=alice).status_code == 200
