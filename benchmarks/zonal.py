"""Benchmark zonal statistics against rasterstats on the same input, in one run.

Input: the real Landsat collection (19 scenes, red band B4) and the 71 NYC community
districts in ``../shared/data/landsat8-ny-2018``. Ours: ``Engine.evaluate_table`` (the engine
path of ``POST /jobs/execute`` and batch jobs: compile, per-item native reads under the
polygons, mean per region and date). rasterstats: ``zonal_stats`` of the same polygons on
every scene file with nodata 0 (the same work, without the table). Target: ratio <= 1.0.

    python benchmarks/zonal.py [--repeat N]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

import pyogrio.raw
import shapely
from rasterstats import zonal_stats

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import ROOT, p50, timed  # noqa: E402
from ondemand.catalog import Catalog  # noqa: E402
from ondemand.engine import CACHED, Engine  # noqa: E402
from ondemand.settings import Settings  # noqa: E402
from ondemand.userfiles import UserFiles  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "landsat8-ny-2018"
GRAPH = {"process_id": "zonal_statistics", "args": {
    "imagery": {"process_id": "filter_bands", "args": {
        "imagery": {"product_id": "landsat8-ny-2018"}, "bands": ["B4"]}},
    "regions": "/users/me/files/nycd.gpkg", "func": "avg"}}


def main() -> None:
    """Time both, print medians and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    catalog = Catalog.load([DATA / "collection.json"])
    collection = catalog.get("landsat8-ny-2018")
    with tempfile.TemporaryDirectory() as tmp:
        files = UserFiles.of(Path(tmp), "local", max_file_bytes=10**8, quota_bytes=10**9)
        files.root.mkdir(parents=True)
        shutil.copy(DATA / "nycd.gpkg", files.root / "nycd.gpkg")
        engine = Engine(catalog, Settings(data_dir=Path(tmp)))

        def ours() -> None:
            engine.evaluate_table(engine.compile(GRAPH), policy=CACHED, user_files=files)

        def theirs() -> None:
            _, _, wkb, _ = pyogrio.raw.read(DATA / "nycd.gpkg")
            geoms = list(shapely.from_wkb(wkb))
            for item in collection.items:
                zonal_stats(geoms, item.assets["B4"].href, nodata=0, stats=["mean"])

        ours()  # warm: GDAL drivers, dataset handles
        theirs()
        ours_s = p50(timed(ours, args.repeat))
        theirs_s = p50(timed(theirs, args.repeat))
        engine.close()
    print(f"zonal_statistics, 71 polygons x {len(collection.items)} scenes (B4 mean)")
    print(f"  ondemand    {ours_s * 1000:8.1f} ms")
    print(f"  rasterstats {theirs_s * 1000:8.1f} ms")
    print(f"  ratio       {ours_s / theirs_s:8.2f}x  (target <= 1.0x)")


if __name__ == "__main__":
    main()
