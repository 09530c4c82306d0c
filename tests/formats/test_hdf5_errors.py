"""netCDF-4 files written from several threads leave the server's stderr clean.

The netCDF library silences HDF5's error printing only in the thread that first uses
it; without :mod:`ondemand.formats.hdf5errors` every later thread printed an
``HDF5-DIAG`` block per file. Run in a fresh interpreter so the first-use thread is
known, and its stderr captured.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import rasterio

SCRIPT = """
import sys, threading
from pathlib import Path
import numpy as np, rasterio
from rasterio.io import MemoryFile
from ondemand.formats.netcdf import copy_to_netcdf

def write(target):
    with MemoryFile() as memfile:
        with memfile.open(driver="GTiff", width=8, height=8, count=1, dtype="float32",
                          crs="EPSG:32632",
                          transform=rasterio.Affine(10, 0, 600000, 0, -10, 5000000)) as dst:
            dst.write(np.arange(64, dtype="float32").reshape(1, 8, 8))
        with memfile.open() as src:
            copy_to_netcdf(src, Path(target))

folder = Path(sys.argv[1])
for n in range(3):
    thread = threading.Thread(target=write, args=(folder / f"r{n}.nc",))
    thread.start()
    thread.join()
"""


def test_netcdf_from_several_threads_prints_no_hdf5_diagnostics(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path)], capture_output=True,
                          text=True, timeout=120, cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 0, done.stderr
    assert "HDF5-DIAG" not in done.stderr, done.stderr
    for n in range(3):
        with rasterio.open(tmp_path / f"r{n}.nc") as written:
            assert written.read(1)[7, 7] == 63
