"""Bad input answers 4xx problem details naming what is wrong; never a 5xx. Owner-only
services are neither listed nor readable for anyone else, as on every other protocol."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from services import create_app
from tests.support.accounts import ALICE, BOB, two_user_settings
from tests.support.seed import use_case_1_job

from .conftest import collection_path

MIN = "{min}"
WEB = "{min}/map/tiles/WebMercatorQuad"
CASES = [
    ("unknown collection", "/ogcapi/collections/nope", 404, "nope"),
    ("unknown collection's coverage", "/ogcapi/collections/nope/coverage", 404, "nope"),
    ("another collection under a service", "{root}/collections/nope", 404, "nope"),
    ("unknown service", "/services/nope/ogcapi/collections/nope", 404, "nope"),
    ("unknown service's landing", "/services/nope/ogcapi/", 404, "nope"),
    ("unknown tile matrix set", "/ogcapi/tileMatrixSets/Nope", 404, "Nope"),
    ("unknown path", "/ogcapi/nope/deeper", 404, "/ogcapi/nope/deeper"),
    ("unknown path under a collection", "{min}/tiles/WebMercatorQuad/1/0/0/extra", 404,
     "/api"),
    ("unknown path under a service", "{root}/processes", 404, "/processes"),
    ("unknown tileset", f"{MIN}/map/tiles/Nope", 404, "Nope"),
    ("unknown tileset's tile", f"{MIN}/map/tiles/Nope/1/0/0", 404, "Nope"),
    ("level out of range", f"{WEB}/31/0/0", 400, "31"),
    ("row out of range", f"{WEB}/2/9/0", 400, "row"),
    ("column out of range", f"{WEB}/2/0/9", 400,
     "column"),
    ("negative row", f"{WEB}/2/-1/0", 400, "-1"),
    ("text level", f"{WEB}/z/0/0", 400, "z"),
    ("bad tile format", f"{WEB}/2/1/2?f=gif", 400,
     "gif"),
    ("tiff as map", f"{WEB}/2/1/2?f=tif", 400, "tif"),
    ("unknown colormap", f"{WEB}/2/1/2?colormap=x",
     400, "x"),
    ("malformed subset", f"{MIN}/coverage?subset=E(1:", 400, "E(1:"),
    ("subset without parentheses", f"{MIN}/coverage?subset=E:1:2", 400,
     "E:1:2"),
    ("unknown axis", f"{MIN}/coverage?subset=Q(1:2)", 400, "Q"),
    ("subset outside", f"{MIN}/coverage?subset=E(0:10)", 400, "outside"),
    ("non-numeric bound", f"{MIN}/coverage?subset=E(a:b)", 400, "a"),
    ("inverted subset", f"{MIN}/coverage?subset=E(660000:656000)", 400,
     "660000"),
    ("time on a reduced job", f'{MIN}/coverage?subset=time("2017-01-04")',
     400, "time"),
    ("short bbox", f"{MIN}/coverage?bbox=1,2,3", 400, "bbox"),
    ("bbox and subset", f"{MIN}/coverage?bbox=1,2,3,4&subset=E(1:2)", 400,
     "bbox"),
    ("bad bbox-crs", f"{MIN}/coverage?bbox=1,2,3,4&bbox-crs=EPSG:0", 400,
     "EPSG:0"),
    ("bad scale-size", f"{MIN}/coverage?scale-size=E(x)", 400, "x"),
    ("zero scale-factor", f"{MIN}/coverage?scale-factor=0", 400, "0"),
    ("vanishing scale-factor", f"{MIN}/coverage?scale-factor=1e-320", 400,
     "infinite"),
    ("unknown property", f"{MIN}/coverage?properties=B99", 400, "B99"),
    ("bad coverage format", f"{MIN}/coverage?f=png", 400, "png"),
    ("too many pixels", f"{MIN}/coverage?scale-size=E(100000),N(100000)", 413,
     "limit"),
    ("unknown date", "{series}/coverage?datetime=2016-01-01", 400, "2016"),
    ("bad date", "{series}/map/tiles/WebMercatorQuad/2/1/2?datetime=x", 400,
     "x"),
    ("bad tms-encoding", "/ogcapi/tileMatrixSets/WebMercatorQuad?tms-encoding=3", 400, "3"),
]


@pytest.mark.parametrize(("name", "url", "status", "needle"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_a_problem_with_a_message(
    client: TestClient, published: dict[str, str], name: str, url: str, status: int, needle: str
) -> None:
    root = published["min"].split("/collections/")[0]
    response = client.get(url.format(root=root, **published))
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status and body["code"] and needle in body["detail"]
    assert body["description"] == body["message"] == body["detail"]




@pytest.fixture(scope="module")
def accounts_app(
    demo_data_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    data_dir = tmp_path_factory.mktemp("ogcapi-auth")
    settings = two_user_settings(data_dir, demo_data_dir)
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.fixture(scope="module")
def alices(accounts_app: TestClient) -> dict[str, str]:
    job_id = accounts_app.post("/jobs", json=use_case_1_job(), auth=ALICE).json()["job_id"]
    out = {}
    for name, args in (("private", {"auth": True}), ("public", {})):
        response = accounts_app.post(
            "/services", json={"job_id": job_id, "type": "ogcapi", "args": args}, auth=ALICE
        )
        assert response.status_code == 200, response.text
        out[name] = response.json()["service_id"]
    return out


def _listed(client: TestClient, **kwargs: object) -> set[str]:
    response = client.get("/ogcapi/collections", **kwargs)  # type: ignore[arg-type]
    assert response.status_code == 200, response.text
    return {c["id"] for c in response.json()["collections"]}


def test_owner_lists_her_services(accounts_app: TestClient, alices: dict[str, str]) -> None:
    assert set(alices.values()) <= _listed(accounts_app, auth=ALICE)


@pytest.mark.parametrize("who", ["bob", "anonymous"])
def test_others_see_only_the_catalog(
    accounts_app: TestClient, alices: dict[str, str], who: str
) -> None:
    listed = _listed(accounts_app, auth=BOB) if who == "bob" else _listed(accounts_app)
    assert not set(alices.values()) & listed
    assert "S2_L2A_T32TPS_20M" in listed


def test_owner_only_collection_is_hidden(accounts_app: TestClient, alices: dict[str, str]) -> None:
    url = collection_path(alices["private"])
    assert accounts_app.get(url, auth=ALICE).status_code == 200
    bob = accounts_app.get(url + "/coverage/domainset", auth=BOB)
    assert bob.status_code == 404 and bob.json()["code"] == "ResourceNotFound"
    anonymous = accounts_app.get(url + "/map/tiles")
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"].startswith("Basic")
    assert anonymous.headers["content-type"] == "application/problem+json"


def test_public_service_reads_by_its_url(accounts_app: TestClient, alices: dict[str, str]) -> None:
    """A capability URL: unlisted for others, readable by whoever holds it."""
    url = collection_path(alices["public"])
    assert accounts_app.get(url, auth=BOB).status_code == 200


CATALOG = "/ogcapi/collections/S2_L2A_T32TPS_20M"
WINDOW = "?subset=E(656000:656400),N(5170000:5170400)&datetime=2017-01-04&properties=B04"


def test_catalog_documents_are_public_its_pixels_for_users(accounts_app: TestClient) -> None:
    """Previews evaluate, as ``/jobs/execute`` does: with accounts, only for users."""
    assert accounts_app.get(CATALOG).status_code == 200
    assert accounts_app.get(CATALOG + "/coverage/tiles").status_code == 200
    anonymous = accounts_app.get(CATALOG + "/coverage" + WINDOW)
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"] == "application/problem+json"
    assert anonymous.headers["www-authenticate"].startswith("Basic")
    wrong = accounts_app.get(CATALOG + "/coverage" + WINDOW, auth=(ALICE[0], "wrong"))
    assert wrong.status_code == 403
    alice = accounts_app.get(CATALOG + "/coverage" + WINDOW, auth=ALICE)
    assert alice.status_code == 200 and alice.headers["content-type"].startswith("image/tiff")
