"""Keep HDF5's automatic error printing off in every thread that writes netCDF-4.

The netCDF library turns HDF5's error printing off once, in the thread that first
uses it; HDF5 keeps that setting per thread, so a netCDF-4 file created from any other
thread prints a harmless ``HDF5-DIAG ... H5Fis_accessible`` block (the library probes
the not-yet-existing target) on the server's stderr. :func:`quiet_hdf5_errors` turns
printing off in the calling thread, through the HDF5 library GDAL has loaded; where
none is found (a GDAL without HDF5) it does nothing.
"""

from __future__ import annotations

import ctypes
import re
import threading
from collections.abc import Callable
from functools import cache
from pathlib import Path

__all__ = ["quiet_hdf5_errors"]

_LIBRARY = re.compile(r"\S*/libhdf5(?:-[0-9a-f]+)?\.so[.0-9]*$")
_DONE = threading.local()


@cache
def _set_auto() -> Callable[[int, None, None], int] | None:
    """``H5Eset_auto2`` of the HDF5 library mapped into this process, if any."""
    maps = Path("/proc/self/maps")
    if not maps.exists():
        return None
    for line in maps.read_text().splitlines():
        found = _LIBRARY.search(line)
        if found:
            function = ctypes.CDLL(found.group(0)).H5Eset_auto2
            function.argtypes = [ctypes.c_int64, ctypes.c_void_p, ctypes.c_void_p]
            function.restype = ctypes.c_int
            return function
    return None


def quiet_hdf5_errors() -> None:
    """Turn HDF5's automatic error printing off in the calling thread (once per thread)."""
    if getattr(_DONE, "quiet", False):
        return
    function = _set_auto()
    if function is not None:
        function(0, None, None)  # H5E_DEFAULT, no printing function
    _DONE.quiet = True
