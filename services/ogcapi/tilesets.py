"""OGC API – Tiles documents: tile matrix set lists, tileset lists and tileset metadata.

Two tilesets per collection and tile matrix set: ``map`` (PNG or JPEG pictures, the
style of the XYZ and WMTS tiles) and ``coverage`` (float GeoTIFF data tiles). Each is
offered in WebMercatorQuad, WorldCRS84Quad and the layer's native grid; the native
grid's definition lives under its collection (its origin is the layer's corner).
"""

from __future__ import annotations

import math
from typing import Any, Literal

from morecantile import Tile, TileMatrixSet

from ondemand.errors import ArgumentInvalid
from ondemand.layer import Layer
from ondemand.tms import (
    WEB_MERCATOR,
    WORLD_CRS84,
    layer_bounds_in,
    tile_matrix_set,
    tms_crs,
    tms_ids,
    well_known,
    zoom_range,
)

from .documents import JSON, REL, link
from .sources import Source

DataType = Literal["map", "coverage"]
WELL_KNOWN: tuple[str, ...] = (WEB_MERCATOR, WORLD_CRS84)
MEDIA_TYPES: dict[DataType, tuple[str, ...]] = {
    "map": ("image/png", "image/jpeg"),
    "coverage": ("image/tiff; application=geotiff",),
}
FORMAT_NAMES = {"image/png": "png", "image/jpeg": "jpeg", "image/tiff; application=geotiff": "tif"}
_EPS = 1e-9


def tms_uri(tms: TileMatrixSet) -> str | None:
    """The registered URI of a well-known set; None for a layer's native grid."""
    return str(tms.uri) if tms.id in WELL_KNOWN and tms.uri else None


def tms_document(tms: TileMatrixSet, encoding: str | None = None) -> dict[str, Any]:
    """A tile matrix set as OGC 2D-TMS 2.0 JSON (morecantile's model); 1.0 on request.

    GDAL before 3.7 (Debian 12's 3.6) reads only the 1.0 encoding (``identifier``,
    ``supportedCRS``, ``tileMatrix`` with ``topLeftCorner``), which 2.0 readers refuse:
    ``encoding="1.0"`` (``?tms-encoding=1.0``, carried from the collection's URL into
    every link) answers that one.
    """
    if encoding is None or encoding == "2.0":
        return tms.model_dump(exclude_none=True, mode="json")
    if encoding != "1.0":
        raise ArgumentInvalid(f"tms-encoding={encoding!r}: use 2.0 (the default) or 1.0")
    matrices = [
        {
            "type": "TileMatrixType",
            "identifier": str(m.id),
            "scaleDenominator": m.scaleDenominator,
            "topLeftCorner": list(m.pointOfOrigin),
            "tileWidth": m.tileWidth,
            "tileHeight": m.tileHeight,
            "matrixWidth": m.matrixWidth,
            "matrixHeight": m.matrixHeight,
        }
        for m in tms.tileMatrices
    ]
    return {
        "type": "TileMatrixSetType",
        "identifier": tms.id,
        "supportedCRS": _crs(tms) if isinstance(tms.crs.root, str) else tms_crs(tms).to_wkt(),
        "tileMatrix": matrices,
    }


def tms_list(base: str) -> dict[str, Any]:
    """``/tileMatrixSets``: the well-known sets (native grids are listed per collection)."""
    items = []
    for tms_id in WELL_KNOWN:
        tms = well_known(tms_id)
        items.append(
            {
                "id": tms_id,
                "title": tms.title or tms_id,
                "uri": tms_uri(tms),
                "crs": _crs(tms),
                "links": [link(f"{base}/tileMatrixSets/{tms_id}", "self", JSON, tms_id)],
            }
        )
    return {"tileMatrixSets": items, "links": [link(f"{base}/tileMatrixSets", "self")]}


def _crs(tms: TileMatrixSet) -> Any:
    root = tms.crs.root
    return root if isinstance(root, str) else tms.crs.model_dump(mode="json")


def tiling_scheme_href(
    base: str, collection_id: str, tms: TileMatrixSet, query: str = ""
) -> str:
    """Where the definition of ``tms`` is: global for well-known sets, else the collection's."""
    q = f"?{query}" if query else ""
    if tms.id in WELL_KNOWN:
        return f"{base}/tileMatrixSets/{tms.id}{q}"
    return f"{base}/collections/{collection_id}/tileMatrixSets/{tms.id}{q}"


def tilesets_href(base: str, collection_id: str, data_type: DataType) -> str:
    """``…/collections/{id}/map/tiles`` or ``…/coverage/tiles``."""
    return f"{base}/collections/{collection_id}/{data_type}/tiles"


def tileset_summary(
    source: Source, tms: TileMatrixSet, data_type: DataType, query: str = ""
) -> dict[str, Any]:
    """A tileset as listed in ``…/tiles``: data type, CRS, its set and links."""
    base, collection_id, layer = source.base, source.id, source.layer
    here = f"{tilesets_href(base, collection_id, data_type)}/{tms.id}" + (
        f"?{query}" if query else ""
    )
    doc: dict[str, Any] = {
        "title": f"{layer.title} ({data_type}, {tms.id})",
        "dataType": data_type,
        "crs": _crs(tms),
        "links": [
            link(here, "self", JSON, f"{tms.id} tileset"),
            link(
                tiling_scheme_href(base, collection_id, tms, query), f"{REL}tiling-scheme", JSON
            ),
        ],
    }
    uri = tms_uri(tms)
    if uri is not None:
        doc["tileMatrixSetURI"] = uri
    return doc


def tileset_list(source: Source, data_type: DataType, query: str = "") -> dict[str, Any]:
    """``…/{map|coverage}/tiles``: one tileset per tile matrix set."""
    sets = [tile_matrix_set(source.layer, tms_id) for tms_id in tms_ids(source.layer)]
    return {
        "links": [link(tilesets_href(source.base, source.id, data_type), "self")],
        "tilesets": [tileset_summary(source, t, data_type, query) for t in sets],
    }


def tileset(
    source: Source, tms: TileMatrixSet, data_type: DataType, query: str = ""
) -> dict[str, Any]:
    """``…/tiles/{tms}``: the tileset metadata with its tile URL template and limits."""
    base, collection_id, layer = source.base, source.id, source.layer
    doc = tileset_summary(source, tms, data_type, query)
    template = (
        f"{tilesets_href(base, collection_id, data_type)}/{tms.id}"
        "/{tileMatrix}/{tileRow}/{tileCol}"
    )
    for media_type in MEDIA_TYPES[data_type]:
        params = f"f={FORMAT_NAMES[media_type]}" + (f"&{query}" if query else "")
        doc["links"].append(link(f"{template}?{params}", "item", media_type, "Tiles"))
    doc["links"].append(link(f"{base}/collections/{collection_id}", "collection", JSON))
    doc["tileMatrixSetLimits"] = limits(layer, tms, whole="tms-encoding=1.0" in query)
    minzoom, maxzoom = zoom_range(layer, tms)
    doc["minTileMatrix"], doc["maxTileMatrix"] = str(minzoom), str(maxzoom)
    return doc


def limits(layer: Layer, tms: TileMatrixSet, whole: bool = False) -> list[dict[str, Any]]:
    """Rows and columns holding the layer at each level of its zoom range.

    ``whole`` gives each level's whole matrix instead (the GDAL 3.6 mode of
    ``tms-encoding=1.0``): GDAL 3.6 needs limits, yet sizes rows as if they spanned the
    matrix and numbers columns from 0 whatever the first one.
    """
    left, bottom, right, top = layer_bounds_in(layer, tms)
    minzoom, maxzoom = zoom_range(layer, tms)
    out = []
    for z in range(minzoom, maxzoom + 1):
        matrix = tms.matrix(z)
        first = tms.xy_bounds(Tile(0, 0, z))
        span_x, span_y = first.right - first.left, first.top - first.bottom
        cols = _span(left - first.left, right - first.left, span_x, matrix.matrixWidth)
        rows = _span(first.top - top, first.top - bottom, span_y, matrix.matrixHeight)
        if whole:
            cols, rows = (0, matrix.matrixWidth - 1), (0, matrix.matrixHeight - 1)
        out.append(
            {
                "tileMatrix": str(matrix.id),
                "minTileRow": rows[0],
                "maxTileRow": rows[1],
                "minTileCol": cols[0],
                "maxTileCol": cols[1],
            }
        )
    return out


def _span(low: float, high: float, step: float, count: int) -> tuple[int, int]:
    first = min(max(math.floor(low / step + _EPS), 0), count - 1)
    last = min(max(math.ceil(high / step - _EPS) - 1, first), count - 1)
    return first, last
