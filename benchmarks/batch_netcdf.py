"""Batch finish: netCDF conversion against COG conversion of the same assembled result.

Chunk results of one NDVI-like float32 result (with NaN holes, ``--dates`` dates of one
band, or ``--bands`` bands without dates) are written into the batch assembler's tiled
GeoTIFF twice, exactly as a run writes them; only ``finish`` is timed: GDAL's COG driver
(DEFLATE, overviews) and GDAL's netCDF driver (netCDF-4, DEFLATE level 6). Prints both
times, file sizes, the server's peak RSS growth during each finish and the ratio.

    python benchmarks/batch_netcdf.py [--size 8192] [--dates 3] [--bands 1] [--chunk 1024]
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from rasterio.crs import CRS

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ondemand.batch.assemble import RasterAssembler  # noqa: E402
from ondemand.batch.chunks import split_window  # noqa: E402
from ondemand.batch.layout import batch_spec  # noqa: E402
from ondemand.batch.worker import ChunkResult  # noqa: E402
from ondemand.window import Window  # noqa: E402


def chunk_values(rows: int, cols: int, count: int, seed: int) -> np.ndarray:
    """NDVI-like float32 values of one chunk: a smooth field plus noise, 2 % NaN."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:rows, 0:cols].astype(np.float32)
    field = 0.4 + 0.3 * np.sin(x / 97.0 + seed) * np.cos(y / 53.0)
    values = field + rng.normal(0, 0.05, (count, rows, cols)).astype(np.float32)
    values[rng.random(values.shape) < 0.02] = np.nan
    return values.astype(np.float32)


def finish_seconds(fmt: str, window: Window, chunk: int, bands: tuple[str, ...],
                   times: tuple[datetime, ...] | None, folder: Path) -> tuple[float, int, int]:
    """Assemble every chunk, then time ``finish``: (seconds, file bytes, peak RSS growth)."""
    spec = batch_spec({"format": fmt})
    assembler = RasterAssembler(folder, window, spec, times)
    count = (1 if times is None else len(times)) * len(bands)
    for piece in split_window(window, chunk):
        values = chunk_values(piece.height, piece.width, count, piece.index)
        assembler.write(piece, ChunkResult(values, None, bands, "float32"))
    final = folder / ("result.nc" if fmt == "netCDF" else "result.tif")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    assert assembler.finish(final)
    seconds = time.perf_counter() - start
    grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) * 1024
    size = final.stat().st_size
    final.unlink()
    return seconds, size, grown


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=8192)
    parser.add_argument("--dates", type=int, default=3, help="dates of a one-band result")
    parser.add_argument("--bands", type=int, default=1, help="bands (with --dates 0)")
    parser.add_argument("--chunk", type=int, default=1024)
    args = parser.parse_args()
    window = Window(CRS.from_epsg(32633), (500000.0, 4000000.0 - 10 * args.size,
                                           500000.0 + 10 * args.size, 4000000.0),
                    args.size, args.size)
    if args.dates:
        bands: tuple[str, ...] = ("ndvi",)
        start = datetime(2020, 1, 5, tzinfo=UTC)
        times: tuple[datetime, ...] | None = tuple(
            start + timedelta(days=5 * i) for i in range(args.dates))
    else:
        bands, times = tuple(f"B{i + 1}" for i in range(args.bands)), None
    results = {}
    with tempfile.TemporaryDirectory(prefix="ondemand-bench-") as tmp:
        for fmt in ("GTiff", "netCDF"):  # COG first: the baseline of this run
            folder = Path(tmp) / fmt
            results[fmt] = finish_seconds(fmt, window, args.chunk, bands, times, folder)
    count = (1 if times is None else len(times)) * len(bands)
    mib = args.size * args.size * 4 * count / 1024**2
    print(f"batch finish of {args.size} x {args.size} float32 x {count} band(s) "
          f"({mib:.0f} MiB of pixels, chunks {args.chunk}):")
    for fmt, (seconds, size, grown) in results.items():
        name = "COG   " if fmt == "GTiff" else "netCDF"
        print(f"  {name} {seconds:6.2f} s, file {size / 1024**2:6.0f} MiB, "
              f"peak RSS growth {grown / 1024**2:5.0f} MiB")
    ratio = results["netCDF"][0] / results["GTiff"][0]
    print(f"  netCDF / COG finish time: {ratio:.2f}x")


if __name__ == "__main__":
    main()
