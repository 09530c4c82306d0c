"""Web maps: XYZ/TMS tiles, TileJSON and point values of ``xyz`` and ``tms`` services; the viewer.

``xyz`` and ``tms`` services share every route here: a service of either type answers
``/xyz``, ``/tms``, ``/tiles`` and TileJSON (the type only names the URL a client is
given). Errors are JSON ``{"code", "message"}``.
"""

from __future__ import annotations

from urllib.parse import quote

from ondemand.layer import Layer

from ..protocol import (
    AUTH_ARG,
    Access,
    Endpoint,
    Protocol,
    ServiceType,
    StaticFolder,
    ViewerLinks,
)
from .point import point
from .signed import viewer_signature
from .tiles import tile, tilejson, tms_tile, xyz_tile
from .viewer import STATIC_DIR, TILE_SERVICE, leaflet_dir, legend_json, viewer_page


def _fields(root: str) -> dict[str, object]:
    return {"links": [{"rel": "tilejson", "href": f"{root}/tilejson.json"}]}


def _viewer_links(root: str, layer: Layer, maxzoom: int) -> dict[str, str]:
    template = f"{root}/xyz/{{z}}/{{x}}/{{y}}.png"
    return {
        "xyz_template": template,
        "tilejson": f"{root}/tilejson.json",
        "qgis_xyz": f"type=xyz&url={quote(template, safe=':/')}&zmin=0&zmax={maxzoom}",
    }


_S = "/services/{service_id}"
_TILES = "map tiles (images); TileJSON describes them"
_TILEJSON = "TileJSON 3.0.0, its own specification"
PROTOCOL = Protocol(
    name="XYZ/TMS tiles",
    endpoints=(
        Endpoint(_S + "/tiles/{tms}/{z}/{x}/{y}.{fmt}", tile, ("GET",), Access.SERVICE),
        Endpoint(_S + "/xyz/{z}/{x}/{y}.{fmt}", xyz_tile, ("GET",), Access.SERVICE),
        Endpoint(_S + "/tms/{date}/{z}/{x}/{y}", tms_tile, ("GET",), Access.SERVICE),
        Endpoint(_S + "/tms/{date}/{z}/{x}/{y}/", tms_tile, ("GET",), Access.SERVICE),
        Endpoint(_S + "/tms/{z}/{x}/{y}", tms_tile, ("GET",), Access.SERVICE),
        Endpoint(_S + "/tms/{z}/{x}/{y}/", tms_tile, ("GET",), Access.SERVICE),
        Endpoint(_S + "/tilejson.json", tilejson, ("GET",), Access.SERVICE),
        Endpoint(_S + "/{tms}/tilejson.json", tilejson, ("GET",), Access.SERVICE),
        Endpoint(_S + "/point", point, ("GET",), Access.SERVICE),
    ),
    service_types=(
        ServiceType(
            "tms",
            "Tiles at {service_url}/{date}/{z}/{x}/{y} (XYZ row order) and TileJSON",
            AUTH_ARG,
        ),
        ServiceType(
            "xyz",
            "XYZ tiles (WebMercatorQuad) at {service_url}/{z}/{x}/{y}.png and TileJSON",
            AUTH_ARG,
        ),
    ),
    undocumented={
        _S + "/tiles/": _TILES,
        _S + "/xyz/": _TILES,
        _S + "/tms/": _TILES,
        _S + "/tilejson.json": _TILEJSON,
        _S + "/{tms}/tilejson.json": _TILEJSON,
        _S + "/point": "viewer helper for map clicks (services/maps/point.py)",
    },
    viewer=ViewerLinks(TILE_SERVICE, _viewer_links),
    service_fields=_fields,
)

VIEWER = Protocol(
    name="viewer",
    endpoints=(
        Endpoint("/jobs/{job_id}/viewer", viewer_page, ("GET",), Access.USER),
        Endpoint("/jobs/{job_id}/viewer/signature", viewer_signature, ("GET",), Access.USER),
        Endpoint("/viewer/legend.json", legend_json, ("GET",), Access.PUBLIC),
        StaticFolder("/static/viewer", STATIC_DIR, "viewer-static"),
        StaticFolder("/static/leaflet", leaflet_dir(), "leaflet"),
    ),
    undocumented={
        "/jobs/{job_id}/viewer": "HTML page for browsers",
        "/jobs/{job_id}/viewer/signature": "the viewer's renewal of signed tile URLs",
        "/viewer/": "viewer page helpers (legends for the HTML page)",
        "/static/": "static files (scripts, styles) of the viewer page",
    },
)
"""The web pages: not a service protocol (no service types), declared the same way."""
