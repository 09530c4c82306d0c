"""A real STAC API and a real COG server for the remote-catalog tests.

- :func:`range_server` serves a folder over HTTP with ``Range`` support (starlette's
  static files under uvicorn) and logs every request, so tests count ranged GETs;
  ``rules`` make chosen paths answer 403/404.
- :func:`load_pgstac` runs ``pypgstac migrate`` and ``pypgstac load`` of the shared data
  collections, with asset hrefs made absolute URLs on the range server.
- :func:`stac_api_process` runs ``stac-fastapi-pgstac`` under uvicorn on loopback.

stac-fastapi-pgstac and pypgstac live in their own virtual environment (FastAPI pins
its own starlette): ``.ci/run`` creates it and names its python in
``ONDEMAND_TEST_STAC_PYTHON``.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn
from starlette.exceptions import HTTPException
from starlette.staticfiles import StaticFiles

from tests.support.live import free_port
from tests.support.postgres import Postgres, why_no_postgres

STAC_PYTHON_ENV = "ONDEMAND_TEST_STAC_PYTHON"


def stac_python() -> Path | None:
    """The python of the virtual environment holding stac-fastapi-pgstac and pypgstac."""
    value = os.environ.get(STAC_PYTHON_ENV)
    return Path(value) if value and Path(value).exists() else None


def why_no_stac_api() -> str | None:
    """Why the real STAC API cannot run here, None when it can."""
    problem = why_no_postgres()
    if problem:
        return problem
    python = stac_python()
    if python is None:
        return (f"{STAC_PYTHON_ENV} does not name a python with stac-fastapi-pgstac and pypgstac "
                "(.ci/run creates that environment)")
    if not (python.parent / "pypgstac").exists():
        return f"pypgstac is not installed beside {python}"
    return None


# --------------------------------------------------------------------------- range server


@dataclass
class RequestLog:
    """Every request the range server answered: method, path, Range header, status."""

    entries: list[tuple[str, str, str, int]] = field(default_factory=list)
    queries: list[str] = field(default_factory=list)
    """Paths requested with a query string (signed URLs), with it."""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, method: str, path: str, byte_range: str, status: int) -> None:
        """Record one request."""
        with self.lock:
            self.entries.append((method, path, byte_range, status))

    def mark(self) -> int:
        """The position after the requests so far (count later ones with :meth:`since`)."""
        with self.lock:
            return len(self.entries)

    def since(self, mark: int) -> list[tuple[str, str, str, int]]:
        """The requests after ``mark``."""
        with self.lock:
            return list(self.entries[mark:])


@dataclass
class RangeServer:
    """A running static file server: its base URL, its log and its per-path status rules."""

    url: str
    log: RequestLog
    rules: dict[str, int]


def _logging_app(root: Path, log: RequestLog, rules: dict[str, int]) -> Callable[..., Any]:
    static = StaticFiles(directory=root, follow_symlink=True)

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await static(scope, receive, send)
            return
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        path, method = scope["path"], scope["method"]
        query = scope.get("query_string", b"").decode()
        if query:
            log.queries.append(f"{path}?{query}")
        byte_range = headers.get("range", "")
        forced = rules.get(path)
        if forced is not None:
            log.add(method, path, byte_range, forced)
            await send({"type": "http.response.start", "status": forced,
                        "headers": [(b"content-type", b"text/plain")]})
            await send({"type": "http.response.body", "body": b"refused by the test server"})
            return
        status: list[int] = []

        async def logged_send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status.append(int(message["status"]))
            await send(message)

        try:
            await static(scope, receive, logged_send)
        except HTTPException as exc:
            await logged_send({"type": "http.response.start", "status": exc.status_code,
                               "headers": [(b"content-type", b"text/plain")]})
            await send({"type": "http.response.body", "body": str(exc.detail).encode()})
        log.add(method, path, byte_range, status[0] if status else 0)

    return app


@contextmanager
def serve_asgi(app: Any) -> Iterator[str]:
    """Run an ASGI app under uvicorn in a thread on a free loopback port; yield its URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test file server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def range_server(root: Path) -> Iterator[RangeServer]:
    """Serve ``root`` over HTTP with Range support and a request log."""
    log, rules = RequestLog(), {}
    with serve_asgi(_logging_app(root, log, rules)) as url:
        yield RangeServer(url, log, rules)


# --------------------------------------------------------------------------- pgSTAC


EARTH_SEARCH_KEYS = {"B02": "blue", "B03": "green", "B04": "red", "B08": "nir",
                     "B8A": "nir08", "B11": "swir16", "B12": "swir22", "SCL": "scl"}
"""Earth Search's asset keys for Sentinel-2 bands (its ``sentinel-2-l2a`` collection)."""
ES_SCALE, ES_OFFSET = 0.0001, -0.1
"""The reflectance scale and offset Earth Search declares in ``raster:bands``."""


def collection_docs(data: Path, name: str, base_url: str) -> tuple[dict[str, Any], list[dict]]:
    """A shared-data collection and its items as a STAC API stores them: absolute asset
    URLs on ``base_url`` (the folder layout of ``data``), no local links."""
    folder = data / name
    coll = json.loads((folder / "collection.json").read_text())
    coll["links"] = []
    items = []
    for path in sorted(folder.glob("*/*.json")):
        item = json.loads(path.read_text())
        item["collection"] = coll["id"]
        item["links"] = []
        for asset in item["assets"].values():
            rel = (path.parent / asset["href"]).resolve().relative_to(data.resolve())
            asset["href"] = f"{base_url}/{rel.as_posix()}"
        items.append(item)
    return coll, items


def broken_collection(coll: dict[str, Any], items: list[dict], base_url: str,
                      new_id: str) -> tuple[dict[str, Any], list[dict]]:
    """Three items whose B04 is forbidden (403), missing (404) and a truncated COG, the
    middle one also without its B03 asset; under ``base_url``/broken/."""
    coll = {**coll, "id": new_id}
    out = []
    for item, name in zip(items, ("forbidden", "missing", "truncated"), strict=True):
        item = {**item, "id": f"{new_id}-{name}", "collection": new_id,
                "assets": dict(item["assets"])}
        item["assets"]["B04"] = {**item["assets"]["B04"], "href": f"{base_url}/broken/{name}.tif"}
        if name == "missing":
            del item["assets"]["B03"]
        out.append(item)
    return coll, out


def earth_search_shape(coll: dict[str, Any], items: list[dict], new_id: str) -> tuple[
    dict[str, Any], list[dict]
]:
    """The collection re-keyed the way Earth Search publishes Sentinel-2 L2A: assets
    ``red``/``nir``/``scl`` with the band name in ``eo:bands``, reflectance scale and
    offset in ``raster:bands``, ``item_assets`` on the collection, plus a thumbnail and a
    JPEG 2000 copy per band that must not become bands."""
    coll = {**coll, "id": new_id, "item_assets": {}}
    coll.pop("summaries", None)
    out = []
    for item in items:
        item = {**item, "id": f"{new_id}-{item['id']}", "collection": new_id}
        assets: dict[str, Any] = {}
        for band, asset in item["assets"].items():
            key = EARTH_SEARCH_KEYS[band]
            asset = dict(asset)
            raster = dict(asset["raster:bands"][0])
            if band != "SCL":
                asset["eo:bands"] = [{"name": band, "common_name": key}]
                raster.update(scale=ES_SCALE, offset=ES_OFFSET)
            else:
                asset.pop("eo:bands", None)
            asset["raster:bands"] = [raster]
            assets[key] = asset
            assets[f"{key}-jp2"] = {"href": asset["href"].replace(".tif", ".jp2"),
                                    "type": "image/jp2", "roles": ["data"]}
            coll["item_assets"][key] = {k: v for k, v in asset.items() if k != "href"}
        assets["thumbnail"] = {"href": item["assets"]["B04"]["href"], "type": "image/tiff",
                               "roles": ["thumbnail"]}
        item["assets"] = assets
        out.append(item)
    return coll, out


def load_pgstac(server: Postgres, python: Path, docs: list[tuple[dict, list[dict]]],
                work: Path, database: str = "stac") -> str:
    """A new database with pgSTAC migrated and ``docs`` loaded; its DSN."""
    dsn = server.create_database(database)
    pypgstac = str(python.parent / "pypgstac")
    _run([pypgstac, "migrate", "--dsn", dsn])
    colls = work / "collections.ndjson"
    colls.write_text("".join(json.dumps(c) + "\n" for c, _ in docs))
    _run([pypgstac, "load", "collections", str(colls), "--dsn", dsn, "--method", "upsert"])
    upsert_items(python, dsn, [i for _, its in docs for i in its], work)
    return dsn


def upsert_items(python: Path, dsn: str, items: list[dict], work: Path) -> None:
    """Insert or replace ``items`` in pgSTAC (``pypgstac load items --method upsert``)."""
    path = work / "items.ndjson"
    path.write_text("".join(json.dumps(i) + "\n" for i in items))
    _run([str(python.parent / "pypgstac"), "load", "items", str(path), "--dsn", dsn,
          "--method", "upsert"])


@dataclass
class StacApiProcess:
    """stac-fastapi-pgstac running under uvicorn: its URL and process."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> None:
        """Stop the API (it is down afterwards)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)


@contextmanager
def stac_api_process(python: Path, server: Postgres, log: Path,
                     database: str = "stac") -> Iterator[StacApiProcess]:
    """Run stac-fastapi-pgstac on a free loopback port against ``database`` (its output in
    ``log``); stop it after."""
    port = free_port()
    env = {**os.environ, "PGUSER": "postgres", "PGPASSWORD": "postgres", "PGHOST": "127.0.0.1",
           "PGPORT": str(server.port), "PGDATABASE": database}
    with log.open("ab") as output:
        process = subprocess.Popen(
            [str(python), "-m", "uvicorn", "stac_fastapi.pgstac.app:create_app", "--factory",
             "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
            env=env, stdout=output, stderr=subprocess.STDOUT,
        )
    api = StacApiProcess(f"http://127.0.0.1:{port}", process, log)
    try:
        _wait_ready(api)
        yield api
    finally:
        api.stop()


def _wait_ready(api: StacApiProcess, seconds: float = 90) -> None:
    """Wait until the API answers its landing page; fail with its output otherwise."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if api.process.poll() is not None:
            output = api.log.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"stac-fastapi-pgstac exited: {output}")
        try:
            with urllib.request.urlopen(f"{api.url}/collections", timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError("stac-fastapi-pgstac did not answer within 90 s")


def sign_with_token(href: str) -> str:
    """A signing hook for the tests: appends a token, as Planetary Computer's SAS does."""
    return f"{href}?token=signed-by-test"


def _run(command: list[str]) -> None:
    """Run a command; raise with its output when it fails."""
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {done.stdout}{done.stderr}")
