"""WMTS tile requests: validation with OGC locators, and GetFeatureInfo on the tile window.

Feature info evaluates the layer on exactly the window of the requested tile (the
same window a GetTile renders) and answers the result's value(s) at pixel
``(I, J)`` (column, row from the tile's top-left), masked pixels as null.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any

import numpy as np
from rasterio.warp import transform as transform_points

from ondemand.cube import Cube
from ondemand.engine import Engine
from ondemand.errors import OnDemandError
from ondemand.layer import WGS84, Layer
from ondemand.tiles import evaluate_tile, tile_matrix_set, tile_window
from ondemand.tms import intersects, layer_bounds_in

from ..common import OWSException, invalid, ogc_exception, xml_bytes
from .capabilities import GML_FORMAT, accepts_style
from .gml import feature_collection


@dataclass(frozen=True)
class TileRequest:
    """The tile a GetTile or GetFeatureInfo names, as sent (KVP or REST)."""

    layer: str
    style: str
    media_type: str
    tms: str
    matrix: str
    row: int
    col: int
    time: str | None


def validate_tile(layer: Layer, tile: TileRequest) -> int:
    """Check a tile request against the layer; return its zoom level.

    Raises OWSException with the locator of the parameter at fault:
    InvalidParameterValue (LAYER, STYLE, TILEMATRIXSET, TILEMATRIX, TIME) or
    TileOutOfRange (TILEROW, TILECOL: outside the tile matrix).
    """
    if tile.layer != layer.id:
        raise invalid("LAYER", f"LAYER={tile.layer!r} is unknown; this service has {layer.id!r}")
    if not accepts_style(layer, tile.style):
        raise invalid(
            "STYLE", f"STYLE={tile.style!r} is unknown; use default or a style of the capabilities"
        )
    tms = _located("TILEMATRIXSET", lambda: tile_matrix_set(layer, tile.tms))
    ids = [str(z) for z in range(tms.minzoom, tms.maxzoom + 1)]
    if tile.matrix not in ids:
        raise invalid(
            "TILEMATRIX",
            f"TILEMATRIX={tile.matrix!r} is not in {tms.id} (identifiers {ids[0]}..{ids[-1]})",
        )
    z = int(tile.matrix)
    matrix = tms.matrix(z)
    for name, value, size in (
        ("TILEROW", tile.row, matrix.matrixHeight),
        ("TILECOL", tile.col, matrix.matrixWidth),
    ):
        if not 0 <= value < size:
            raise OWSException(
                "TileOutOfRange",
                f"{name}={value} is outside 0..{size - 1} at tile matrix {z} of {tms.id}",
                name,
            )
    _located("TIME", lambda: layer.select_time(tile.time))
    return z


def _located(locator: str, call: Any) -> Any:
    try:
        return call()
    except OWSException:
        raise
    except OnDemandError as exc:
        raise ogc_exception(exc, "ows", locator) from None


def feature_info(
    engine: Engine, layer: Layer, tile: TileRequest, i: int, j: int, info_format: str
) -> bytes:
    """The result's values at pixel ``(i, j)`` of the tile, as JSON, text or XML.

    Blocking raster work: run it in a worker thread. ``I``/``J`` outside the tile
    raise ``PointIJOutOfRange``.
    """
    tms = tile_matrix_set(layer, tile.tms)
    window = tile_window(tms, int(tile.matrix), tile.col, tile.row, layer.select_time(tile.time))
    for name, value, size in (("I", i, window.width), ("J", j, window.height)):
        if not 0 <= value < size:
            raise OWSException(
                "PointIJOutOfRange", f"{name}={value} is outside the tile (0..{size - 1})", name
            )
    cube = None
    if intersects(window.bounds, layer_bounds_in(layer, tms)):
        cube = evaluate_tile(engine, layer, window)
    x, y = window.transform * (i + 0.5, j + 0.5)
    values = _values(layer, cube, i, j)
    lon, lat = transform_points(window.crs, WGS84, [x], [y])
    info: dict[str, Any] = {
        "layer": layer.id,
        "time": None if window.times is None else window.times[-1].isoformat(),
        "tilematrixset": tms.id,
        "tilematrix": tile.matrix,
        "tilerow": tile.row,
        "tilecol": tile.col,
        "i": i,
        "j": j,
        "crs": window.crs.to_string(),
        "x": x,
        "y": y,
        "values": values,
    }
    if info_format == "application/json":
        feature = {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [lon[0], lat[0]]},
            "properties": info,
        }
        return json.dumps({"type": "FeatureCollection", "features": [feature]}).encode()
    if info_format == "text/plain":
        lines = [f"{key}: {value}" for key, value in info.items() if key != "values"]
        lines += [f"{band} = {'nodata' if v is None else repr(v)}" for band, v in values.items()]
        return ("\n".join(lines) + "\n").encode()
    if info_format == GML_FORMAT:
        fields = {k: v for k, v in info.items() if k != "values"}
        return feature_collection(fields, values, (x, y), window.crs.to_string())
    root = ET.Element("FeatureInfoResponse", {k: str(v) for k, v in info.items() if k != "values"})
    for band, number in values.items():
        attrib = {"band": band, "nodata": str(number is None).lower()}
        ET.SubElement(root, "Value", attrib).text = "" if number is None else repr(number)
    return xml_bytes(root)


def _values(layer: Layer, cube: Cube | None, i: int, j: int) -> dict[str, float | None]:
    """Band name -> value at the pixel of the tile's (last) date; None where masked."""
    if cube is None:
        return {band: None for band in layer.bands or ("band",)}
    pixel = cube.data[-1, :, j, i]
    out: dict[str, float | None] = {}
    for band, value, masked in zip(cube.bands, pixel.data, np.ma.getmaskarray(pixel), strict=True):
        number = float(value)
        out[band] = None if masked or not np.isfinite(number) else number
    return out
