"""Test data and helpers of the batch tests: a small two-date collection, polling, servers."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from affine import Affine

from tests.support.cogs import make_collection
from tests.support.live import free_port

ROOT = Path(__file__).resolve().parents[2]
ORIGIN = (500000.0, 4000000.0)
SHAPE = (300, 400)
"""Rows, columns of item ``a``; item ``b`` covers only the east half."""


def _bands(seed: int, shape: tuple[int, int]) -> dict[str, tuple[np.ndarray, float, float, float]]:
    rng = np.random.default_rng(seed)
    out = {}
    for name in ("B04", "B08"):
        values = rng.integers(100, 4000, shape).astype("int16")
        values[rng.random(shape) < 0.02] = 0  # no data
        out[name] = (values, 0.0, 0.0001, 0.0)
    return out


def make_series(directory: Path) -> Path:
    """Collection ``T``: item ``a`` (2020-01-05) over the whole extent, ``b`` (2020-01-09)
    over its east half only, so west chunks have one date and east chunks two."""
    a = make_collection(
        directory / "T", [("a", datetime(2020, 1, 5), _bands(1, SHAPE))], 32633,
        Affine(10, 0, ORIGIN[0], 0, -10, ORIGIN[1]), collection_id="T",
    )
    half = (SHAPE[0], SHAPE[1] // 2)
    b = make_collection(
        directory / "tmp-b", [("b", datetime(2020, 1, 9), _bands(2, half))], 32633,
        Affine(10, 0, ORIGIN[0] + 10 * half[1], 0, -10, ORIGIN[1]), collection_id="T",
    )
    shutil.move(str(b.parent / "b"), str(a.parent / "b"))
    shutil.rmtree(b.parent)
    collection = json.loads(a.read_text())
    collection["links"].append({"rel": "item", "href": "./b/b.json", "type": "application/json"})
    interval = ["2020-01-05T00:00:00Z", "2020-01-09T00:00:00Z"]
    collection["extent"]["temporal"]["interval"] = [interval]
    a.write_text(json.dumps(collection))
    return a


def source(collection: Path, item: str, band: str) -> np.ma.MaskedArray:
    """A source band as reflectance (scale applied), nodata masked."""
    import rasterio

    with rasterio.open(collection.parent / item / f"{band}.tif") as src:
        raw = src.read(1)
    return np.ma.masked_equal(raw, 0).astype(np.float64) * 0.0001


def expected_min_ndvi(collection: Path) -> np.ma.MaskedArray:
    """Minimum NDVI of both dates computed with numpy straight from the files."""
    ndvi = []
    for item in ("a", "b"):
        red, nir = source(collection, item, "B04"), source(collection, item, "B08")
        day = (nir - red) / (nir + red)
        if item == "b":
            full = np.ma.masked_all(SHAPE)
            full[:, SHAPE[1] // 2:] = day
            day = full
        ndvi.append(day)
    return np.ma.stack(ndvi).min(axis=0)


MIN_NDVI: dict[str, Any] = {
    "process_id": "min_time",
    "args": {
        "imagery": {
            "process_id": "NDVI",
            "args": {"imagery": {"product_id": "T"}, "red": "B04", "nir": "B08"},
        }
    },
}
NDVI_SERIES: dict[str, Any] = {
    "process_id": "NDVI",
    "args": {"imagery": {"product_id": "T"}, "red": "B04", "nir": "B08"},
}


def child_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.update(extra)
    return env


def wait_until_serving(
    http: httpx.Client, process: subprocess.Popen[bytes], timeout: float
) -> None:
    """Poll ``GET /`` until the server answers 200; RuntimeError if it exits or takes longer."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if http.get("/").status_code == 200:
                return
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"server at {http.base_url} did not start (exit {process.poll()})")
        time.sleep(0.2)


class Server:
    """``ondemand serve`` in a subprocess on 127.0.0.1."""

    def __init__(self, data_dir: Path, catalog: Path, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "services.cli", "serve", "--port", str(self.port),
             "--data-dir", str(data_dir), "--catalog", str(catalog), "--log-level", "warning"],
            env=child_env(**env), cwd=ROOT, stdout=subprocess.DEVNULL,
        )
        self.http = httpx.Client(base_url=self.url, timeout=30)
        wait_until_serving(self.http, self.process, 60)

    def stop(self, kill: bool = False) -> None:
        self.http.close()
        if self.process.poll() is None:
            if kill:
                self.process.kill()
            else:
                self.process.terminate()
        self.process.wait(60)


def wait_for(get_job: Any, job_id: str, until: Any, timeout: float = 60) -> dict[str, Any]:
    """Poll ``GET /jobs/{id}`` until ``until(job)`` holds."""
    deadline = time.monotonic() + timeout
    while True:
        job = get_job(f"/jobs/{job_id}").json()
        if until(job):
            return dict(job)
        if time.monotonic() > deadline:
            raise AssertionError(f"job {job_id} never got there: {job}")
        time.sleep(0.1)


def done(job: dict[str, Any]) -> bool:
    return job["status"] not in ("queued", "running")


def result_links(client: Any, job_id: str) -> list[dict[str, Any]]:
    """The draft's download links of a finished batch run (``client``: a TestClient)."""
    response = client.get(f"/jobs/{job_id}/batch/download")
    assert response.status_code == 200, response.text
    return list(response.json())


def download(client: Any, href: str, **headers: str) -> Any:
    """GET one of those links through a TestClient (its ``http://testserver`` removed)."""
    return client.get(href.replace("http://testserver", ""), headers=headers)
