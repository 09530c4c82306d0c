"""Write a cube as JSON: grid, labels and values, with ``null`` for masked pixels."""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from ..cube import Cube


def cube_to_json(cube: Cube) -> dict[str, Any]:
    """Return the JSON object of a cube.

    ``{"crs", "transform", "bands", "times", "dims", "shape", "data"}``: ``crs`` as
    ``AUTH:CODE`` when it has one (else WKT), ``transform`` the six affine
    coefficients ``[a, b, c, d, e, f]`` (x = a*col + b*row + c, y = d*col + e*row
    + f), ``times`` ISO datetimes or ``null`` when the cube has no time axis (then
    the ``t`` axis is left out of ``dims``, ``shape`` and ``data``). ``data`` is
    nested lists with ``null`` for masked pixels and for non-finite floats.
    """
    data = cube.data if cube.times is not None else cube.data[0]
    dims = ["t", "bands", "y", "x"] if cube.times is not None else ["bands", "y", "x"]
    mask = np.ma.getmaskarray(data)
    values = np.ma.getdata(data)
    if values.dtype.kind == "f":
        mask = mask | ~np.isfinite(values)
    elif values.dtype.kind == "b":
        values = values.astype(np.uint8)
    cells = _cells(values)
    cells[mask] = None
    authority = cube.crs.to_authority()
    crs = ":".join(authority) if authority else cube.crs.to_wkt()
    t = cube.transform
    return {
        "crs": crs,
        "transform": [t.a, t.b, t.c, t.d, t.e, t.f],
        "bands": list(cube.bands),
        "times": None if cube.times is None else [d.isoformat() for d in cube.times],
        "dims": dims,
        "shape": list(data.shape),
        "data": cells.tolist(),
    }


def _cells(values: np.ndarray) -> np.ndarray:
    """Python numbers in an object array; float32 as its shortest round-tripping decimal."""
    if values.dtype.kind == "f" and values.dtype.itemsize < 8:
        texts = values.astype(str).ravel()
        numbers = [float(text) for text in texts]
        cells = np.empty(len(numbers), dtype=object)
        cells[:] = numbers
        return cells.reshape(values.shape)
    return values.astype(object)


def write_json(cube: Cube) -> bytes:
    """Encode :func:`cube_to_json` as compact UTF-8 JSON bytes."""
    return json.dumps(cube_to_json(cube), separators=(",", ":"), allow_nan=False).encode()
