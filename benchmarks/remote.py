"""Benchmark the remote path: cold tiles through a STAC API + COGs over HTTP vs local files.

In one run: PostgreSQL + pgSTAC (``pypgstac load`` of ``../shared/data/s2-l2a-29rkh``,
asset hrefs on a loopback HTTP server that honours Range), stac-fastapi-pgstac, and two
engines on the same scene: one reading the local static catalog, one the STAC API. Each
renders the same 100 distinct NDVI PNG tiles (10 x 10 at zoom 12, WebMercatorQuad) once,
alternating, with no tile or read cache: every tile is cold. Prints the p50 per tile of
both and their ratio (goal <= 1.3), the STAC API searches per 100 tiles (goal <= 10) and
the ranged GETs per tile.

Two series: *server* (one engine per side, as a server runs: open files and GDAL's block
cache shared by the tiles) and *fresh* (a new engine per tile and GDAL's HTTP cache off for
the file server: every tile reopens its files and fetches its headers and blocks again).

    ONDEMAND_TEST_STAC_PYTHON=/path/to/stac-venv/bin/python python benchmarks/remote.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import morecantile
from rasterio.warp import transform

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import ROOT, p50  # noqa: E402
from ondemand.catalog import Catalog, open_catalog  # noqa: E402
from ondemand.catalog.api import SearchedItems  # noqa: E402
from ondemand.engine import Engine  # noqa: E402
from ondemand.layer import make_layer  # noqa: E402
from ondemand.settings import Settings  # noqa: E402
from ondemand.tiles import render_tile, tile_matrix_set  # noqa: E402
from tests.support.postgres import running_postgres  # noqa: E402
from tests.support.stacapi import (  # noqa: E402
    collection_docs,
    load_pgstac,
    range_server,
    stac_api_process,
    stac_python,
    why_no_stac_api,
)

DATA = ROOT.parent / "shared" / "data"
SCENE = "s2-l2a-29rkh"
ZOOM = 12
SIDE = 10


def ndvi_graph() -> dict[str, object]:
    """NDVI of the scene."""
    return {"process_id": "NDVI", "args": {"imagery": {"product_id": SCENE},
                                            "red": "B04", "nir": "B08"}}


def tiles() -> list[morecantile.Tile]:
    """A 10 x 10 block of zoom-12 tiles inside the scene."""
    lon, lat = transform("EPSG:32629", "EPSG:4326", [215000], [2785000])
    corner = morecantile.tms.get("WebMercatorQuad").tile(lon[0], lat[0], ZOOM)
    return [morecantile.Tile(corner.x + dx, corner.y + dy, ZOOM)
            for dy in range(SIDE) for dx in range(SIDE)]


def main() -> int:
    problem = why_no_stac_api()
    python = stac_python()
    if problem or python is None:
        print(f"cannot run: {problem}")
        return 2
    work = Path(tempfile.mkdtemp(prefix="ondemand-remote-bench-"))
    (work / "www").mkdir()
    (work / "www" / "data").symlink_to(DATA)
    with range_server(work / "www") as files, running_postgres() as server:
        load_pgstac(server, python, [collection_docs(DATA, SCENE, f"{files.url}/data")], work)
        with stac_api_process(python, server, work / "api.log") as api:
            local_settings = Settings(data_dir=work / "local")
            remote_settings = Settings(data_dir=work / "remote", stac_apis=(api.url,))
            catalogs = {"local": Catalog.load([DATA / SCENE / "collection.json"]),
                        "remote": open_catalog([], remote_settings)}
            settings = {"local": local_settings, "remote": remote_settings}
            run(catalogs, settings, files.log, fresh=False)
            uncached = ((*remote_settings.gdal_config,
                         ("CPL_VSIL_CURL_NON_CACHED", f"/vsicurl/{files.url}")))
            settings["remote"] = replace(remote_settings, gdal_config=uncached)
            run(catalogs, settings, files.log, fresh=True)
    return 0


def run(catalogs: dict[str, Catalog], settings: dict[str, Settings], log: object, *,
        fresh: bool) -> None:
    """Render every tile once on both sides, alternating; print the figures."""
    engines = {name: Engine(catalogs[name], settings[name]) for name in catalogs}
    layers = {name: make_layer(name, name, engine.compile(ndvi_graph()))
              for name, engine in engines.items()}
    tms = tile_matrix_set(layers["local"], "WebMercatorQuad")
    finder = catalogs["remote"].get(SCENE).finder
    assert isinstance(finder, SearchedItems)
    finder.api.cache.clear()
    searches_before = finder.api.searches
    mark = log.mark()  # type: ignore[attr-defined]
    times: dict[str, list[float]] = {"local": [], "remote": []}
    for tile in tiles():
        for name in ("local", "remote"):
            start = time.perf_counter()
            if fresh:
                engines[name].close()
                engines[name] = Engine(catalogs[name], settings[name])
            render_tile(engines[name], layers[name], tms, tile.z, tile.x, tile.y, "png")
            times[name].append(time.perf_counter() - start)
    for engine in engines.values():
        engine.close()
    requests = log.since(mark)  # type: ignore[attr-defined]
    searches = finder.api.searches - searches_before
    whole = [r for r in requests if r[0] == "GET" and not r[2]]
    count = len(times["local"])
    series = "fresh (new engine per tile, no HTTP cache)" if fresh else "server (one engine)"
    print(f"{count} cold NDVI tiles, zoom {ZOOM}, 2 bands, 1 date, 512 px COG blocks: {series}")
    print(f"  local files   p50 {p50(times['local']) * 1000:7.1f} ms")
    print(f"  STAC API+HTTP p50 {p50(times['remote']) * 1000:7.1f} ms")
    print(f"  ratio remote/local {p50(times['remote']) / p50(times['local']):.2f} (goal <= 1.3)")
    print(f"  STAC API searches per 100 tiles: {searches * 100 / count:.0f} (goal <= 10)")
    print(f"  HTTP requests per tile: {len(requests) / count:.2f} "
          f"({len(requests)} in all, {len(whole)} without a Range header)")


if __name__ == "__main__":
    sys.exit(main())
