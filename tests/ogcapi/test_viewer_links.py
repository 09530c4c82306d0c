"""The viewer's links panel lists the job's OGC API landing page and its collection."""

from __future__ import annotations

import json

from starlette.testclient import TestClient

from .conftest import graphs


def test_viewer_links_open_the_job_in_ogc_api(client: TestClient) -> None:
    job_id = client.post(
        "/jobs", json={"process_graph": graphs()["min"], "title": "NDVI in the viewer"}
    ).json()["job_id"]
    assert client.post(f"/jobs/{job_id}/on_demand").status_code == 204
    page = client.get(f"/jobs/{job_id}/viewer").text
    script = page.split('<script type="application/json" id="viewer-config">', 1)[1]
    config = json.loads(script.split("</script>")[0])
    links = config["links"]
    landing = client.get(links["ogcapi"]).json()
    data = [link["href"] for link in landing["links"] if link["rel"] == "data"]
    collection = client.get(links["ogcapi_collection"])
    assert collection.status_code == 200
    assert collection.json()["title"] == "NDVI in the viewer"
    listed = [c["id"] for c in client.get(data[0]).json()["collections"]]
    assert listed == [collection.json()["id"]]
    everything = {c["id"] for c in client.get("/ogcapi/collections").json()["collections"]}
    assert collection.json()["id"] in everything  # the local user's own service
    services = [s for s in client.get("/services").json() if s["job_id"] == job_id]
    ogcapi = [s for s in services if s["service_type"] == "ogcapi"]
    assert [s["service_url"] + "/" for s in ogcapi] == [links["ogcapi"]]
