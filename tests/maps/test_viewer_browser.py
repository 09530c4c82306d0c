"""The viewer in a real browser: headless Chromium (Debian's) driven by Playwright.

A server on 127.0.0.1 serves the demo catalog; the browser opens the viewer of a
time-series NDVI job and may reach nothing but that server. Set
``ONDEMAND_DOCS_SCREENSHOT=1`` to write ``docs/images/viewer.png`` from the same run.
Without Chromium or Playwright the tests skip locally and fail under ``CI=true``
(``.ci/run`` installs both).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import numpy as np
import pytest
import rasterio

from tests.support.live import live_demo_server
from tests.support.seed import use_case_1_job

DOCS_IMAGE = Path(__file__).resolve().parents[2] / "docs" / "images" / "viewer.png"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]
BACKGROUND = (238, 240, 242)
"""The map's background colour (#eef0f2 in viewer.css) where no tile is drawn."""


def chromium_path() -> str:
    """Debian's Chromium, or skip (fail under CI) with the reason."""
    missing = []
    path = shutil.which("chromium") or (
        "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
    )
    if path is None:
        missing.append("chromium (apt-get install -y chromium)")
    if importlib.util.find_spec("playwright") is None:
        missing.append("playwright (pip install playwright)")
    if missing:
        reason = f"browser tests need {' and '.join(missing)}; .ci/run installs them"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    assert path is not None
    return path




@pytest.fixture(scope="module")
def base_url(demo_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real server (uvicorn in a thread) on 127.0.0.1 with its own data dir."""
    with live_demo_server(tmp_path_factory.mktemp("viewer-server"), demo_data_dir) as url:
        yield url


@pytest.fixture(scope="module")
def job_id(base_url: str) -> str:
    graph = dict(use_case_1_job()["process_graph"]["args"]["imagery"])  # NDVI, 3 dates
    with httpx.Client(base_url=base_url) as http:
        job = http.post("/jobs", json={"process_graph": graph, "title": "NDVI January 2017"})
        assert job.status_code == 200, job.text
        job_id = str(job.json()["job_id"])
        assert http.post(f"/jobs/{job_id}/on_demand").status_code == 204
    return job_id


@dataclass
class Viewer:
    """The open viewer page and every request it made that failed or left the server."""

    page: Any
    base_url: str
    failed: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)

    def check_requests(self) -> None:
        assert self.failed == [], f"failed requests: {self.failed}"
        assert self.outside == [], f"requests beyond this server: {self.outside}"

    def loads(self) -> int:
        return int(self.page.get_attribute("#map", "data-loads"))

    def wait_for_tiles(self, after: int) -> None:
        self.page.wait_for_function(
            f"Number(document.getElementById('map').dataset.loads) > {after}"
            " && document.getElementById('map').dataset.tiles === 'loaded'",
            timeout=30_000,
        )
        self.page.wait_for_timeout(400)  # Leaflet fades tiles in

    def map_pixels(self) -> np.ndarray:
        """The map as an RGB array (3, rows, columns) from a screenshot."""
        png = self.page.locator("#map").screenshot()
        with rasterio.MemoryFile(png) as mem, mem.open() as src:
            return np.asarray(src.read()[:3], dtype=np.int16)


@pytest.fixture(scope="module")
def viewer(
    base_url: str, job_id: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Viewer]:
    executable = chromium_path()
    from playwright.sync_api import sync_playwright

    host = urlsplit(base_url).netloc
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=executable,
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport={"width": 1280, "height": 800},
        )
        try:
            page = context.new_page()
            viewer = Viewer(page, base_url)

            def only_this_server(route: Any) -> None:
                if urlsplit(route.request.url).netloc == host:
                    route.continue_()
                else:
                    viewer.outside.append(route.request.url)
                    route.abort()

            context.route("**/*", only_this_server)
            page.on("requestfailed", lambda r: viewer.failed.append(f"{r.url} {r.failure}"))
            page.on(
                "response",
                lambda r: viewer.failed.append(f"{r.url} {r.status}") if r.status >= 400 else None,
            )
            page.on("pageerror", lambda e: viewer.failed.append(f"page error {e}"))
            page.goto(f"{base_url}/jobs/{job_id}/viewer")
            viewer.wait_for_tiles(0)
            yield viewer
        finally:
            context.close()


def test_tiles_load_and_the_map_is_not_blank(viewer: Viewer) -> None:
    pixels = viewer.map_pixels()
    background = np.asarray(BACKGROUND, dtype=np.int16)[:, None, None]
    drawn = np.abs(pixels - background).sum(axis=0) > 30
    # The job's 20 km square fills about a fifth of the map at the zoom that fits it.
    assert drawn.mean() > 0.12, f"only {drawn.mean():.0%} of the map is drawn"
    assert len({tuple(c) for c in pixels.reshape(3, -1).T[::97]}) > 20  # many colours
    assert viewer.page.get_attribute("#map", "data-tile-errors") == "0"
    assert viewer.page.inner_text("#time-label").startswith("2017-01-24")
    viewer.check_requests()


def test_moving_the_time_slider_changes_the_pixels(viewer: Viewer) -> None:
    before = viewer.map_pixels()
    loads = viewer.loads()
    viewer.page.fill("#time", "0")
    viewer.wait_for_tiles(loads)
    after = viewer.map_pixels()
    assert viewer.page.inner_text("#time-label").startswith("2017-01-04")
    changed = np.abs(after - before).sum(axis=0) > 0
    drawn = np.abs(before - np.asarray(BACKGROUND, dtype=np.int16)[:, None, None]).sum(axis=0) > 30
    share = changed[drawn].mean()
    assert share > 0.1, f"only {share:.1%} of the drawn pixels changed"
    assert changed[~drawn].mean() < 0.01  # nothing outside the job's extent (edges blend)
    assert "time=2017-01-04" in viewer.page.input_value("#link-xyz_template")
    viewer.check_requests()


def test_colormap_changes_the_legend_and_the_tiles(viewer: Viewer) -> None:
    before = viewer.map_pixels()
    loads = viewer.loads()
    viewer.page.select_option("#colormap", "viridis")
    viewer.wait_for_tiles(loads)
    viewer.page.wait_for_function(
        "getComputedStyle(document.getElementById('legend-bar')).backgroundImage"
        ".includes('rgb(68, 1, 84)')"  # viridis at the range's minimum (#440154)
    )
    assert np.abs(viewer.map_pixels() - before).sum(axis=0).mean() > 10
    assert "colormap=viridis" in viewer.page.input_value("#link-xyz_template")
    viewer.page.click("#style-reset")
    viewer.check_requests()


def test_clicking_a_pixel_charts_the_point_endpoint_values(viewer: Viewer) -> None:
    page = viewer.page
    box = page.locator("#map").bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.45, box["y"] + box["height"] * 0.55)
    page.wait_for_selector("#pixel[data-ready='ok']", timeout=30_000)
    lon = page.get_attribute("#pixel", "data-lon")
    lat = page.get_attribute("#pixel", "data-lat")
    point = httpx.get(
        f"{viewer.base_url}{_point_path(page)}", params={"lon": lon, "lat": lat}
    ).json()
    charted = page.eval_on_selector_all(
        "#chart svg circle",
        "nodes => nodes.map(n => [n.dataset.time, n.dataset.band, Number(n.dataset.value)])",
    )
    expected = [
        [entry["time"], point["bands"][b], value]
        for b in range(len(point["bands"]))
        for entry in point["series"]
        for value in [entry["values"][b]]
        if value is not None
    ]
    assert len(point["series"]) == 3 and len(expected) >= 2
    assert charted == expected
    shown = point["series"][int(page.input_value("#time"))]  # the slider's date
    assert f"ndvi = {shown['values'][0]} on {shown['time'][:10]}" in page.inner_text("#pixel")
    if os.environ.get("ONDEMAND_DOCS_SCREENSHOT"):
        page.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + box["height"] * 0.4)
        DOCS_IMAGE.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(DOCS_IMAGE))
    viewer.check_requests()


def _point_path(page: Any) -> str:
    config = page.eval_on_selector("#viewer-config", "n => JSON.parse(n.textContent)")
    return str(config["point"])
