"""Map tiles over HTTP: XYZ, the draft's TMS form, any tile matrix set, and TileJSON.

Routes (``{fmt}`` is png, jpg/jpeg or tif; rows count from the top, XYZ order):

- ``/services/{id}/tiles/{tms}/{z}/{x}/{y}.{fmt}``: any tile matrix set
  (WebMercatorQuad, WorldCRS84Quad, the layer's native grid, or an alias);
- ``/services/{id}/xyz/{z}/{x}/{y}.{fmt}``: WebMercatorQuad;
- ``/services/{id}/tms/{date}/{z}/{x}/{y}[.fmt][/]`` and ``/services/{id}/tms/{z}/{x}/{y}``:
  the draft's TMS form, WebMercatorQuad in XYZ row order, PNG unless an extension
  says otherwise; ``{date}`` picks the layer's latest date on or before it;
- ``/services/{id}/tilejson.json`` and ``/services/{id}/{tms}/tilejson.json``.

Query: ``time``, ``colormap`` (or ``colormap_name``), ``rescale=min,max``, ``bands``.
Answers carry ``ETag`` (a hash of the cache key), ``Cache-Control``,
``Content-Bbox`` and ``Content-Crs``; ``If-None-Match`` gets a 304.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ondemand.cache import TileCache
from ondemand.errors import ArgumentInvalid, OutputOptionInvalid
from ondemand.formats.options import BandRef
from ondemand.formats.render import Range
from ondemand.layer import Layer
from ondemand.tiles import (
    WEB_MERCATOR,
    PreparedTile,
    TileResult,
    TileStyle,
    prepare_tile,
    render_prepared,
    tile_matrix_set,
    tile_style,
    time_on_or_before,
    zoom_range,
)

from ..published import published_of
from ..state import run_blocking, state_of

TILE_MAX_AGE = 3600
"""Seconds clients and CDNs may keep a tile (keys change with the data anyway)."""
_INT = re.compile(r"[+-]?\d{1,40}")
_SERVICE_FORMS = {"xyz", "tms"}


def tile_cache(request: Request) -> TileCache:
    """The app's tile cache (``data_dir/cache/tiles``), shared by tiles and WMTS."""
    return state_of(request).tiles


def client_time(text: str | None) -> str | None:
    """A client's time value; the template placeholder ``{Time}`` left unfilled means the default.

    WMTS REST templates and some XYZ clients send ``{Time}`` verbatim.
    """
    if text is not None and text.strip().lower() == "{time}":
        return None
    return text


def parse_style(
    colormap: str | None, rescale: str | Sequence[str] | None, bands: str | None
) -> TileStyle:
    """Picture options from a query: ``colormap=viridis``, ``rescale=min,max`` (one, or one
    per band: repeated or ``;``-separated), ``bands=1`` / ``B04`` / ``3,2,1``."""
    return tile_style(colormap, _rescale(rescale) if rescale else None, _bands(bands))


def _rescale(value: str | Sequence[str]) -> list[Range]:
    texts = [t for t in value.split(";") if t.strip()] if isinstance(value, str) else value
    ranges: list[Range] = []
    for text in texts:
        try:
            low, high = (float(v.strip()) for v in text.split(","))
        except ValueError:
            raise OutputOptionInvalid(
                f"rescale {value!r} must be min,max numbers, e.g. rescale=-1,1"
            ) from None
        ranges.append((low, high))
    return ranges


def _bands(value: str | None) -> list[BandRef] | None:
    if not value:
        return None
    refs: list[BandRef] = []
    for item in value.split(","):
        text = item.strip()
        if not text:
            raise OutputOptionInvalid(f"bands {value!r} has an empty entry")
        refs.append(int(text) if text.isdigit() else text)
    return refs


def _int(name: str, text: str) -> int:
    if not _INT.fullmatch(text):
        raise ArgumentInvalid(f"Tile {name} {text!r} is not an integer")
    return int(text)


def _split_ext(text: str, default: str = "png") -> tuple[str, str]:
    stem, dot, ext = text.partition(".")
    return (stem, ext) if dot else (text, default)


def not_modified(request: Request, etag: str) -> bool:
    """Whether the request's ``If-None-Match`` already names ``etag`` (answer 304)."""
    header = request.headers.get("if-none-match")
    if not header:
        return False
    tags = {t.strip().removeprefix("W/") for t in header.split(",")}
    return "*" in tags or etag in tags


def tile_headers(tile: PreparedTile | TileResult) -> dict[str, str]:
    """Caching headers of a tile: its ETag and how long it may be kept."""
    return {"ETag": tile.etag, "Cache-Control": f"public, max-age={TILE_MAX_AGE}"}


async def _serve(
    request: Request,
    tms_id: str,
    z: str,
    x: str,
    y: str,
    fmt: str,
    *,
    date: str | None = None,
) -> Response:
    """Validate, answer 304 or the (cached) tile of the service's layer."""
    layer = published_of(request).layer
    q = request.query_params
    time = client_time(q.get("time"))
    if date is not None:
        time = await run_blocking(request, time_on_or_before, layer, date)
    tile = await run_blocking(
        request,
        prepare_tile,
        layer,
        tile_matrix_set(layer, tms_id),
        _int("zoom level", z),
        _int("column", x),
        _int("row", y),
        fmt,
        time,
        parse_style(
            q.get("colormap") or q.get("colormap_name"), q.getlist("rescale"), q.get("bands")
        ),
    )
    if not_modified(request, tile.etag):
        return Response(status_code=304, headers=tile_headers(tile))
    state = state_of(request)
    result = await run_blocking(request, render_prepared, state.engine, tile, tile_cache(request))
    headers = tile_headers(result)
    headers["Content-Bbox"] = ",".join(repr(float(v)) for v in result.bounds)
    headers["Content-Crs"] = f"<{result.crs}>"
    return Response(result.content, media_type=result.media_type, headers=headers)


async def tile(request: Request) -> Response:
    """``/services/{id}/tiles/{tms}/{z}/{x}/{y}.{fmt}``."""
    p = request.path_params
    return await _serve(request, p["tms"], p["z"], p["x"], p["y"], p["fmt"])


async def xyz_tile(request: Request) -> Response:
    """``/services/{id}/xyz/{z}/{x}/{y}.{fmt}``: WebMercatorQuad."""
    p = request.path_params
    return await _serve(request, WEB_MERCATOR, p["z"], p["x"], p["y"], p["fmt"])


async def tms_tile(request: Request) -> Response:
    """The draft's ``/services/{id}/tms/[{date}/]{z}/{x}/{y}[.fmt]``: WebMercatorQuad, XYZ rows."""
    p = request.path_params
    y, fmt = _split_ext(p["y"])
    return await _serve(request, WEB_MERCATOR, p["z"], p["x"], y, fmt, date=p.get("date"))


async def tilejson(request: Request) -> Response:
    """TileJSON 3.0.0 of the service's layer in a tile matrix set (default WebMercatorQuad)."""
    tms_id = request.path_params.get("tms", WEB_MERCATOR)
    layer = published_of(request).layer
    body = await run_blocking(request, tilejson_document, request, layer, tms_id)
    return JSONResponse(body)


def tilejson_document(request: Request, layer: Layer, tms_id: str) -> dict[str, Any]:
    """The TileJSON of ``layer``: template, bounds, center, zooms and the layer's dates."""
    q = request.query_params
    if tms_id.lower() in _SERVICE_FORMS:
        tms_id = WEB_MERCATOR
    tms = tile_matrix_set(layer, tms_id)
    minzoom, maxzoom = zoom_range(layer, tms)
    base = str(request.base_url).rstrip("/")
    service_id = request.path_params["service_id"]
    if tms.id == WEB_MERCATOR:
        path = f"{base}/services/{service_id}/xyz/{{z}}/{{x}}/{{y}}.png"
    else:
        path = f"{base}/services/{service_id}/tiles/{tms.id}/{{z}}/{{x}}/{{y}}.png"
    query: list[tuple[str, str]] = []
    selected = layer.select_time(client_time(q.get("time")))
    if selected is not None:
        query.append(("time", selected[0].isoformat().replace("+00:00", "Z")))
    for name in ("colormap", "bands"):
        if q.get(name):
            query.append((name, q[name]))
    query.extend(("rescale", r) for r in q.getlist("rescale"))
    west, south, east, north = layer.bounds_wgs84
    doc: dict[str, Any] = {
        "tilejson": "3.0.0",
        "name": layer.title,
        "description": f"Job {layer.id}",
        "scheme": "xyz",
        "tiles": [path + ("?" + urlencode(query, safe=",:") if query else "")],
        "minzoom": minzoom,
        "maxzoom": maxzoom,
        "bounds": [west, south, east, north],
        "center": [(west + east) / 2, (south + north) / 2, min(maxzoom, minzoom + 2)],
        "tile_matrix_set": tms.id,
    }
    if layer.times is not None:
        doc["times"] = [t.isoformat().replace("+00:00", "Z") for t in layer.times]
        doc["default_time"] = doc["times"][-1]
    return doc
