"""``GET /services/{id}/point?lon=&lat=``: a pixel's values at every date of a published job.

The answer is the pixel of the layer's native grid holding the point, evaluated on a
one-pixel window with no time selection (see :mod:`ondemand.point`)::

    {"lon": 11.1, "lat": 46.6, "crs": "EPSG:32632", "x": 662010.0, "y": 5171010.0,
     "column": 500, "row": 499, "pixel_bounds": [...], "bands": ["ndvi"],
     "series": [{"time": "2017-01-04T10:00:00Z", "values": [0.41]}, ...]}

``time`` is null for a result without a time axis (one entry). Like the tile URLs the
service id is the capability: a SERVICE route of the tiles protocol (``xyz``, ``tms``).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ondemand.errors import ArgumentInvalid, ArgumentMissing
from ondemand.point import PixelSeries, pixel_series

from ..published import published_of
from ..state import run_blocking, state_of


def _coordinate(request: Request, name: str) -> float:
    """A required finite number from the query."""
    text = request.query_params.get(name)
    if text is None or not text.strip():
        raise ArgumentMissing(f"Query parameter {name!r} is required (WGS84 degrees)")
    try:
        return float(text)
    except ValueError:
        raise ArgumentInvalid(f"{name}={text!r} is not a number") from None


def series_body(series: PixelSeries) -> dict[str, Any]:
    """The JSON body of a pixel's series."""
    times = series.times
    entries = [
        {
            "time": None if times is None else times[i].isoformat().replace("+00:00", "Z"),
            "values": list(values),
        }
        for i, values in enumerate(series.values)
    ]
    return {
        "lon": series.lon,
        "lat": series.lat,
        "crs": series.crs,
        "x": series.x,
        "y": series.y,
        "column": series.column,
        "row": series.row,
        "pixel_bounds": list(series.pixel_bounds),
        "bands": list(series.bands),
        "series": entries,
    }


async def point(request: Request) -> Response:
    """``GET /services/{id}/point?lon=&lat=``: the pixel's value at each date."""
    lon = _coordinate(request, "lon")
    lat = _coordinate(request, "lat")
    engine = state_of(request).engine
    layer = published_of(request).layer
    series = await run_blocking(request, pixel_series, engine, layer, lon, lat)
    return JSONResponse(series_body(series))
