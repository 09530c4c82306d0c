"""Cubes as bytes, for the disk cache of intermediates: exact values, mask and labels."""

from __future__ import annotations

import io
import json
import struct
from datetime import datetime

import numpy as np
from affine import Affine
from rasterio.crs import CRS

from .cube import Cube

_MAGIC = b"ODCUBE1\n"


def cube_to_bytes(cube: Cube) -> bytes:
    """Serialize a cube: a JSON header (labels, grid) then the data and mask arrays (npy)."""
    header = json.dumps(
        {
            "times": None if cube.times is None else [t.isoformat() for t in cube.times],
            "bands": list(cube.bands),
            "crs": cube.crs.to_wkt(),
            "transform": list(cube.transform)[:6],
        }
    ).encode()
    arrays = io.BytesIO()
    np.save(arrays, np.ma.getdata(cube.data), allow_pickle=False)
    np.save(arrays, np.ma.getmaskarray(cube.data), allow_pickle=False)
    return _MAGIC + struct.pack("<I", len(header)) + header + arrays.getvalue()


def cube_from_bytes(content: bytes) -> Cube:
    """The cube :func:`cube_to_bytes` wrote; ValueError for anything else."""
    if not content.startswith(_MAGIC):
        raise ValueError("not a serialized cube")
    offset = len(_MAGIC)
    (size,) = struct.unpack_from("<I", content, offset)
    offset += 4
    header = json.loads(content[offset : offset + size])
    arrays = io.BytesIO(content[offset + size :])
    data = np.load(arrays, allow_pickle=False)
    mask = np.load(arrays, allow_pickle=False)
    times = header["times"]
    return Cube(
        data=np.ma.MaskedArray(data, mask=mask),
        times=None if times is None else tuple(datetime.fromisoformat(t) for t in times),
        bands=tuple(header["bands"]),
        crs=CRS.from_wkt(header["crs"]),
        transform=Affine(*header["transform"]),
    )
