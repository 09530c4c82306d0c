"""Owner-only services on browser maps: the viewer's tiles carry a short-lived signature.

A live server with two accounts; alice publishes an NDVI series as an owner-only XYZ
service. Signed tile URLs work without credentials and equal the tiles alice gets with
Basic; unsigned, tampered or foreign signatures get 401. In headless Chromium logged in
as alice the viewer draws the layer with signed tiles only; without login, 401.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import numpy as np
import pytest

from tests.maps.test_viewer_browser import BACKGROUND, CHROMIUM_FLAGS, Viewer, chromium_path
from tests.support.accounts import ALICE, BOB, two_user_settings
from tests.support.live import live_server
from tests.support.seed import use_case_1_job

TILE = "/xyz/12/2174/1459.png?time=2017-01-14"
"""A tile of the job's extent (use case 1, zoom 12)."""


@pytest.fixture(scope="module")
def base_url(demo_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data_dir = tmp_path_factory.mktemp("owner-only-viewer")
    settings = two_user_settings(data_dir, demo_data_dir)
    with live_server(settings) as url:
        yield url


@pytest.fixture(scope="module")
def published(base_url: str) -> dict[str, str]:
    """Alice's NDVI series, on demand, with an owner-only XYZ service and a second one."""
    graph = dict(use_case_1_job()["process_graph"]["args"]["imagery"])
    with httpx.Client(base_url=base_url, auth=ALICE, timeout=60) as alice:
        job_id = alice.post("/jobs", json={"process_graph": graph, "title": "NDVI"}).json()[
            "job_id"]
        assert alice.post(f"/jobs/{job_id}/on_demand").status_code == 204
        out = {"job": job_id}
        for name in ("xyz", "other"):
            response = alice.post(
                "/services", json={"job_id": job_id, "type": "xyz", "args": {"auth": True}})
            assert response.status_code == 200, response.text
            out[name] = response.json()["service_id"]
    return out


def _signature(base_url: str, published: dict[str, str], service: str) -> dict[str, Any]:
    response = httpx.get(
        f"{base_url}/jobs/{published['job']}/viewer/signature",
        params={"service": published[service]}, auth=ALICE,
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_a_signed_tile_needs_no_credentials(base_url: str, published: dict[str, str]) -> None:
    url = f"{base_url}/services/{published['xyz']}{TILE}"
    assert httpx.get(url).status_code == 401
    with_basic = httpx.get(url, auth=ALICE, timeout=60)
    signature = _signature(base_url, published, "xyz")
    signed = httpx.get(f"{url}&{signature['query']}", timeout=60)
    assert with_basic.status_code == signed.status_code == 200
    assert signed.headers["content-type"] == "image/png" and signed.content == with_basic.content


def test_tampered_or_foreign_signatures_get_401(base_url: str, published: dict[str, str]) -> None:
    signature = _signature(base_url, published, "other")
    query = parse_qs(signature["query"])
    exp, sig = query["exp"][0], query["sig"][0]
    base = f"{base_url}/services/{published['xyz']}{TILE}"
    other = f"{base_url}/services/{published['other']}{TILE}"
    assert httpx.get(f"{other}&exp={exp}&sig={sig}", timeout=60).status_code == 200
    assert httpx.get(f"{base}&exp={exp}&sig={sig}").status_code == 401  # another service's
    assert httpx.get(f"{other}&exp={int(exp) + 60}&sig={sig}").status_code == 401
    assert httpx.get(f"{other}&exp={exp}&sig={'0' * 64}").status_code == 401


def test_only_the_owner_gets_signatures(base_url: str, published: dict[str, str]) -> None:
    url = f"{base_url}/jobs/{published['job']}/viewer/signature"
    assert httpx.get(url, params={"service": published["xyz"]}).status_code == 401
    assert httpx.get(url, params={"service": published["xyz"]}, auth=BOB).status_code == 404
    assert httpx.get(url, params={"service": "nope"}, auth=ALICE).status_code == 404


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    executable = chromium_path()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_FLAGS
        )
        try:
            yield instance
        finally:
            instance.close()


def test_the_viewer_draws_an_owner_only_job_with_signed_tiles(
    browser: Any, base_url: str, published: dict[str, str]
) -> None:
    context = browser.new_context(
        http_credentials={"username": ALICE[0], "password": ALICE[1]},
        viewport={"width": 1280, "height": 800},
    )
    try:
        page = context.new_page()
        viewer = Viewer(page, base_url)
        tiles: list[tuple[str, int]] = []

        def seen(response: Any) -> None:
            if "/xyz/" in response.url:
                tiles.append((response.url, response.status))
            elif response.status >= 400:
                viewer.failed.append(f"{response.url} {response.status}")

        page.on("response", seen)
        page.on("pageerror", lambda e: viewer.failed.append(f"page error {e}"))
        page.goto(f"{base_url}/jobs/{published['job']}/viewer")
        viewer.wait_for_tiles(0)
        pixels = viewer.map_pixels()
    finally:
        context.close()
    drawn = np.abs(pixels - np.asarray(BACKGROUND, dtype=np.int16)[:, None, None]).sum(axis=0) > 30
    assert drawn.mean() > 0.12, f"only {drawn.mean():.0%} of the map is drawn"
    assert tiles and all(status == 200 for _, status in tiles), tiles
    for url, _ in tiles:
        parts = urlsplit(url)
        assert parts.path.startswith(f"/services/{published['xyz']}/xyz/")
        assert {"exp", "sig"} <= set(parse_qs(parts.query))
    viewer.check_requests()


def test_without_login_the_viewer_is_401(browser: Any, base_url: str,
                                         published: dict[str, str]) -> None:
    context = browser.new_context()  # no credentials: headless Chromium cannot prompt
    try:
        page = context.request.get(f"{base_url}/jobs/{published['job']}/viewer")
        tile = context.request.get(f"{base_url}/services/{published['xyz']}{TILE}")
        assert page.status == tile.status == 401
        assert page.headers["www-authenticate"].startswith("Basic")
    finally:
        context.close()
