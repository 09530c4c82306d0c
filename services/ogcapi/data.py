"""OGC API endpoints that give data: tilesets, tiles and the coverage.

Tiles go through the same path as XYZ and WMTS (``prepare_tile`` → tile cache →
``render_prepared``) with the same styles and ETags; the coverage through the same
evaluator as WCS and ``/jobs/execute``.
"""

from __future__ import annotations

from morecantile import TileMatrixSet
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ondemand.coverage import Coverage, coverage_of
from ondemand.engine import Engine
from ondemand.errors import ArgumentInvalid, OutputFormatUnsupported, ResourceNotFound
from ondemand.layer import Layer
from ondemand.tiles import TileStyle, prepare_tile, render_prepared
from ondemand.tms import tile_matrix_set

from ..maps.tiles import not_modified, parse_style, tile_cache, tile_headers
from ..ogc.wcs.endpoints import range_type
from ..state import run_blocking, run_evaluation, state_of
from . import coverages, tilesets
from .common import carried_query
from .query import parse_query
from .sources import Source, source_of

_TILE_FORMATS: dict[tilesets.DataType, dict[str, str]] = {
    "map": {"png": "png", "image/png": "png", "jpeg": "jpeg", "jpg": "jpeg", "image/jpeg": "jpeg"},
    "coverage": {"tif": "tif", "tiff": "tif", "geotiff": "tif", "image/tiff": "tif"},
}


def _tms(layer: Layer, tms_id: str) -> TileMatrixSet:
    """The collection's tile matrix set ``tms_id``; unknown ones are 404."""
    try:
        return tile_matrix_set(layer, tms_id)
    except ArgumentInvalid as exc:
        raise ResourceNotFound(exc.message) from None


def _data_type(request: Request) -> tilesets.DataType:
    """``…/map/tiles``: map tiles; ``…/coverage/tiles`` and geodata's ``…/tiles``: data tiles."""
    return "map" if "/map/tiles" in request.url.path else "coverage"


async def tileset_list(request: Request) -> Response:
    """``GET …/collections/{id}/{map|coverage}/tiles``."""
    source = await source_of(request)
    body = await run_blocking(
        request, tilesets.tileset_list, source, _data_type(request), carried_query(request)
    )
    return JSONResponse(body)


async def tileset(request: Request) -> Response:
    """``GET …/{map|coverage}/tiles/{tms}``: tileset metadata with the URL template."""
    source = await source_of(request)
    tms = _tms(source.layer, request.path_params["tms"])
    body = await run_blocking(
        request, tilesets.tileset, source, tms, _data_type(request), carried_query(request)
    )
    return JSONResponse(body)


def _index(name: str, text: str) -> int:
    if not (text.isascii() and text.isdigit() and len(text) <= 20):
        raise ArgumentInvalid(f"{name} {text!r} is not a non-negative integer")
    return int(text)


def _tile_format(data_type: tilesets.DataType, text: str | None) -> str:
    table = _TILE_FORMATS[data_type]
    if text is None:
        return next(iter(table.values()))
    fmt = table.get(text.strip().lower())
    if fmt is None:
        raise OutputFormatUnsupported(
            f"f={text!r}: {data_type} tiles come as {', '.join(sorted(set(table.values())))}"
        )
    return fmt


def _style(data_type: tilesets.DataType, q: QueryParams) -> TileStyle:
    """Map tiles take ``colormap``, ``rescale`` and ``properties`` (or ``bands``);
    data tiles only the band selection."""
    bands = q.get("properties") or q.get("bands")
    if data_type == "coverage":
        return parse_style(None, None, bands)
    return parse_style(q.get("colormap"), q.getlist("rescale") or None, bands)


async def tile(request: Request) -> Response:
    """``GET …/{map|coverage}/tiles/{tms}/{tileMatrix}/{tileRow}/{tileCol}`` (row first)."""
    p = request.path_params
    q = request.query_params
    data_type = _data_type(request)
    source = await source_of(request)
    layer = source.layer
    tms = _tms(layer, p["tms"])
    prepared = await run_blocking(
        request,
        prepare_tile,
        layer,
        tms,
        _index("tileMatrix", p["z"]),
        _index("tileCol", p["col"]),
        _index("tileRow", p["row"]),
        _tile_format(data_type, q.get("f")),
        q.get("datetime"),
        _style(data_type, q),
    )
    if not_modified(request, prepared.etag):
        return Response(status_code=304, headers=tile_headers(prepared))
    engine = state_of(request).engine
    result = await run_blocking(request, render_prepared, engine, prepared, tile_cache(request))
    headers = tile_headers(result)
    headers["Content-Bbox"] = ",".join(repr(float(v)) for v in result.bounds)
    headers["Content-Crs"] = f"<{result.crs}>"
    return Response(result.content, media_type=result.media_type, headers=headers)


async def _coverage(request: Request, source: Source) -> Coverage:
    engine = state_of(request).engine
    ranges = await run_blocking(request, range_type, engine, source.layer)
    return coverage_of(source.layer, ranges)


async def coverage(request: Request) -> Response:
    """``GET …/collections/{id}/coverage``: the (subset, scaled) coverage as GeoTIFF."""
    source = await source_of(request)
    cov = await _coverage(request, source)
    engine = state_of(request).engine
    content = await run_evaluation(request, _render, engine, cov, request.query_params)
    return Response(
        content,
        media_type=coverages.MEDIA_TYPE,
        headers={"Content-Disposition": f'inline; filename="{cov.id}.tif"'},
    )


def _render(engine: Engine, cov: Coverage, params: QueryParams) -> bytes:
    """Parse the coverage query and render it (blocking: CRS transforms, evaluation)."""
    return coverages.render(engine, cov, parse_query(cov, params))


async def domainset(request: Request) -> Response:
    """``GET …/collections/{id}/coverage/domainset``."""
    cov = await _coverage(request, await source_of(request))
    return JSONResponse(coverages.domainset(cov))


async def rangetype(request: Request) -> Response:
    """``GET …/collections/{id}/coverage/rangetype``."""
    cov = await _coverage(request, await source_of(request))
    return JSONResponse(coverages.rangetype(cov))
