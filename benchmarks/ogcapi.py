"""Benchmark OGC API tiles against the same tiles through XYZ (one evaluator, one cache).

One server (``ondemand serve`` on 127.0.0.1) publishes the seed's min-NDVI job; the same
WebMercatorQuad tiles are requested through ``/services/{id}/xyz/{z}/{x}/{y}.png`` and
``/services/{id}/ogcapi/collections/{id}/map/tiles/WebMercatorQuad/{z}/{row}/{col}``
(the job published once as ``xyz`` and once as ``ogcapi``), interleaved:

1. cached tiles (the disk cache answers: the protocol's own overhead);
2. re-rendered tiles (a fresh ``rescale`` per request misses the tile cache, so every
   request evaluates and encodes).

Prints p50 per protocol, the OGC API / XYZ ratio of the p50s and the median of the
per-pair ratios (steadier on a shared machine); target: within 1.05.

    python benchmarks/ogcapi.py [--data-dir DIR] [--repeat N]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import httpx
import morecantile

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import p50, running_server  # noqa: E402
from ondemand.demo import ensure_demo_catalog  # noqa: E402
from tests.support.seed import use_case_1_job  # noqa: E402

WM = morecantile.tms.get("WebMercatorQuad")
ZOOM = 13


def timed_get(client: httpx.Client, url: str) -> float:
    """Seconds to fetch ``url`` (checked to be a 200 PNG)."""
    start = time.perf_counter()
    response = client.get(url)
    elapsed = time.perf_counter() - start
    if response.status_code != 200 or response.headers["content-type"] != "image/png":
        raise RuntimeError(f"{url}: {response.status_code} {response.text[:200]}")
    return elapsed


def main() -> None:
    """Run both phases and print the ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="ondemand-bench-"))
    ensure_demo_catalog(data_dir)
    with running_server(data_dir) as server, httpx.Client(base_url=server.url, timeout=120) as http:
        job = http.post("/jobs", json=use_case_1_job()).json()["job_id"]
        sid, oid = (
            http.post("/services", json={"job_id": job, "type": kind}).json()["service_id"]
            for kind in ("xyz", "ogcapi")
        )
        tiles = list(WM.tiles(11.0, 46.6, 11.24, 46.75, zooms=[ZOOM]))[:16]

        def xyz(t: morecantile.Tile) -> str:
            return f"/services/{sid}/xyz/{t.z}/{t.x}/{t.y}.png"

        def ogc(t: morecantile.Tile) -> str:
            root = f"/services/{oid}/ogcapi/collections/{oid}"
            return f"{root}/map/tiles/WebMercatorQuad/{t.z}/{t.y}/{t.x}"

        for t in tiles:  # warm both paths and the layer
            timed_get(http, xyz(t))
            timed_get(http, ogc(t))
        cached: dict[str, list[float]] = {"xyz": [], "ogcapi": []}
        for i in range(args.repeat):
            t = tiles[i % len(tiles)]
            order = [("xyz", xyz(t)), ("ogcapi", ogc(t))]
            for name, url in order if i % 2 else order[::-1]:
                cached[name].append(timed_get(http, url))
        fresh: dict[str, list[float]] = {"xyz": [], "ogcapi": []}
        for i in range(max(10, args.repeat // 2)):
            t = tiles[i % len(tiles)]
            high = [f"{1 + (2 * i + k) / 10000:.4f}" for k in (1, 2)]  # unique: a cache miss
            order = [
                ("xyz", f"{xyz(t)}?rescale=-1,{high[0]}"),
                ("ogcapi", f"{ogc(t)}?rescale=-1,{high[1]}"),
            ]
            for name, url in order if i % 2 else order[::-1]:
                fresh[name].append(timed_get(http, url))
    for label, samples in (("cached", cached), ("re-rendered", fresh)):
        a, b = p50(samples["xyz"]), p50(samples["ogcapi"])
        paired = p50([o / x for o, x in zip(samples["ogcapi"], samples["xyz"], strict=True)])
        print(
            f"{label:12s} tile p50: xyz {a * 1000:7.2f} ms, ogcapi {b * 1000:7.2f} ms, "
            f"ratio ogcapi/xyz {b / a:.3f}, median paired ratio {paired:.3f} "
            f"(n={len(samples['xyz'])})"
        )


if __name__ == "__main__":
    main()
