"""Benchmark map tiles: cold tiles vs a rio-tiler floor, cached vs cold, throughput vs titiler.

1. In one process, cold PNG tiles of the seed's min-NDVI job (WebMercatorQuad, a
   full-resolution zoom and a low zoom) through ``render_tile`` against a floor:
   bare rio-tiler ``Reader.tile`` reads of B04 and B8A of the same dates, numexpr
   NDVI, the minimum over time and a PNG encode with the same colormap.
2. The same tiles answered from the disk cache.
3. If titiler.application is installed: single-date NDVI tiles of
   ``../shared/data/s2-l2a-29rkh`` from both servers (uvicorn, one process each,
   on 127.0.0.1) at 4 concurrent clients; tiles per second.

    python benchmarks/tiles.py [--data-dir DIR] [--repeat N]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import morecantile
import numexpr
import numpy as np
from rio_tiler.colormap import cmap as rio_cmap
from rio_tiler.io import Reader
from rio_tiler.utils import render

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import (  # noqa: E402
    ROOT,
    Server,
    free_port,
    http_process,
    p50,
    running_server,
)
from ondemand.cache import TileCache  # noqa: E402
from ondemand.catalog import Catalog  # noqa: E402
from ondemand.demo import ensure_demo_catalog  # noqa: E402
from ondemand.engine import Engine  # noqa: E402
from ondemand.layer import make_layer  # noqa: E402
from ondemand.settings import Settings  # noqa: E402
from ondemand.tiles import render_tile, tile_matrix_set  # noqa: E402
from tests.support.seed import use_case_1_job  # noqa: E402

WM = morecantile.tms.get("WebMercatorQuad")
S2_29RKH = ROOT.parent / "shared" / "data" / "s2-l2a-29rkh"


def tiles_over(bounds: tuple[float, float, float, float], z: int) -> list[morecantile.Tile]:
    """Tiles of zoom ``z`` wholly inside ``bounds`` (WGS84), or all touching if none are."""
    west, south, east, north = bounds
    touching = list(WM.tiles(west, south, east, north, [z]))
    inside = [
        t
        for t in touching
        if (b := WM.bounds(t)).left >= west
        and b.right <= east
        and b.bottom >= south
        and b.top <= north
    ]
    return inside or touching


def floor_tile(readers: list[tuple[Reader, Reader]], tile: morecantile.Tile) -> bytes:
    """Bare rio-tiler: read B04/B8A per date, numexpr NDVI, min over time, PNG."""
    ndvis = []
    for red_reader, nir_reader in readers:
        red = red_reader.tile(tile.x, tile.y, tile.z, indexes=1).array[0].astype("float32")
        nir = nir_reader.tile(tile.x, tile.y, tile.z, indexes=1).array[0].astype("float32")
        ndvi = numexpr.evaluate("(nir - red) / (nir + red)")
        mask = np.ma.getmaskarray(red) | np.ma.getmaskarray(nir)
        ndvis.append(np.ma.MaskedArray(ndvi, mask=mask))
    stack = np.ma.stack(ndvis)
    low = stack.min(axis=0)
    scaled = np.clip(np.rint((low.filled(0) + 1) * 127.5), 0, 255).astype("uint8")
    alpha = np.where(np.ma.getmaskarray(low), 0, 255).astype("uint8")
    return bytes(render(scaled[np.newaxis], alpha, colormap=rio_cmap.get("rdylgn")))


def measure(fn: Any, items: list[Any], repeat: int) -> list[float]:
    """Seconds per call of ``fn(item)`` over ``repeat`` passes of ``items``."""
    out = []
    for _ in range(repeat):
        for item in items:
            start = time.perf_counter()
            fn(item)
            out.append(time.perf_counter() - start)
    return out


def in_process(data_dir: Path, repeat: int) -> None:
    """Parts 1 and 2."""
    catalog = Catalog.load(ensure_demo_catalog(data_dir))
    engine = Engine(catalog, Settings(data_dir=data_dir))
    layer = make_layer("bench", "Min NDVI", engine.compile(use_case_1_job()["process_graph"]))
    tms = tile_matrix_set(layer, "webmercator")
    collection = catalog.get("S2_L2A_T32TPS_20M")
    start, end = "2017-01-01", "2017-01-31"
    items = [i for i in collection.items if start <= i.datetime.date().isoformat() <= end]
    readers = [(Reader(i.assets["B04"].href), Reader(i.assets["B8A"].href)) for i in items]
    print(f"seed job: min NDVI over {len(items)} dates, tiles 256x256 WebMercatorQuad")
    for label, z in (("full-resolution z13", 13), ("low zoom z10", 10)):
        tiles = tiles_over(layer.bounds_wgs84, z)[:12]
        render_tile(engine, layer, tms, z, tiles[0].x, tiles[0].y)  # layer style, warm handles
        floor_tile(readers, tiles[0])
        ours = measure(lambda t: render_tile(engine, layer, tms, t.z, t.x, t.y), tiles, repeat)
        floor = measure(lambda t: floor_tile(readers, t), tiles, repeat)
        print(
            f"  {label}: {len(tiles)} tiles  ondemand p50 {p50(ours) * 1e3:7.1f} ms  "
            f"floor p50 {p50(floor) * 1e3:7.1f} ms  ratio {p50(ours) / p50(floor):.2f}x "
            "(target <= 1.25x)"
        )
        with tempfile.TemporaryDirectory() as tmp:
            cache = TileCache(Path(tmp), 256 * 1024**2)
            for t in tiles:
                render_tile(engine, layer, tms, t.z, t.x, t.y, cache=cache)
            hits = measure(
                lambda t, c=cache: render_tile(engine, layer, tms, t.z, t.x, t.y, cache=c),
                tiles,
                repeat,
            )
            cache.close()
        print(
            f"  {label}: cached p50 {p50(hits) * 1e3:7.2f} ms  "
            f"cold/cached {p50(ours) / p50(hits):.0f}x (target >= 20x)"
        )
    for red, nir in readers:
        red.close()
        nir.close()
    engine.close()


@contextmanager
def titiler_server() -> Iterator[Server]:
    """titiler.application under uvicorn on 127.0.0.1 (one process)."""
    port = free_port()
    command = [
        sys.executable, "-m", "uvicorn", "titiler.application.main:app",
        "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
    ]  # fmt: skip
    env = {"TITILER_API_DISABLE_MOSAIC": "TRUE"}
    with http_process(command, port, "/healthz", env) as server:
        yield server


def throughput(urls: list[str], clients: int = 4) -> tuple[float, int]:
    """Tiles per second fetching every URL once with ``clients`` concurrent clients."""
    failures = 0

    def fetch(url: str) -> int:
        with httpx.Client(timeout=60) as client:
            return client.get(url).status_code

    start = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        statuses = list(pool.map(fetch, urls))
    elapsed = time.perf_counter() - start
    failures = sum(s != 200 for s in statuses)
    return len(urls) / elapsed, failures


def versus_titiler(data_dir: Path) -> None:
    """Part 3."""
    try:
        import titiler.application  # noqa: F401
    except ImportError:
        print("titiler.application is not installed: skipping the comparison")
        return
    item = next(S2_29RKH.glob("*/*_L2A.json"))
    bounds = json.loads(item.read_text())["bbox"]
    tiles = [t for z in (10, 11) for t in tiles_over(tuple(bounds), z)]
    warm = tiles_over(tuple(bounds), 9)
    graph = {
        "process_id": "NDVI",
        "args": {"imagery": {"product_id": "s2-l2a-29rkh"}, "red": "B04", "nir": "B08"},
    }
    style = "colormap_name=rdylgn&rescale=-1,1"
    catalog = str(S2_29RKH / "collection.json")
    with running_server(data_dir, "--catalog", catalog) as server:
        base = server.url
        job = httpx.post(f"{base}/jobs", json={"process_graph": graph}).json()
        httpx.post(f"{base}/jobs/{job['job_id']}/on_demand").raise_for_status()
        service = httpx.post(f"{base}/services", json={"job_id": job["job_id"], "type": "xyz"})
        url = service.json()["service_url"]
        # a fresh data dir: every tile below is cold in the disk cache
        throughput([f"{url}/{t.z}/{t.x}/{t.y}.png?{style}" for t in warm])
        ours, ours_failed = throughput([f"{url}/{t.z}/{t.x}/{t.y}.png?{style}" for t in tiles])
    with titiler_server() as titiler:
        base = titiler.url
        query = f"url={item}&assets=B04&assets=B08&expression=(b2-b1)/(b2%2Bb1)&{style}"
        template = f"{base}/stac/tiles/WebMercatorQuad/{{z}}/{{x}}/{{y}}.png?{query}"
        throughput([template.format(z=t.z, x=t.x, y=t.y) for t in warm])
        theirs, theirs_failed = throughput([template.format(z=t.z, x=t.x, y=t.y) for t in tiles])
    print(
        f"s2-l2a-29rkh NDVI, {len(tiles)} tiles z10-11, 4 clients: ondemand {ours:.1f} tiles/s "
        f"({ours_failed} failed), titiler {theirs:.1f} tiles/s ({theirs_failed} failed), "
        f"ratio {ours / theirs:.2f}x (target >= 1.0x)"
    )


def main() -> None:
    """Run all parts and print the ratios."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, default=ROOT / "data")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    in_process(args.data_dir, args.repeat)
    with tempfile.TemporaryDirectory() as tmp:
        versus_titiler(Path(tmp))


if __name__ == "__main__":
    main()
