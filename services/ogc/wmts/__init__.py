"""OGC WMTS 1.0.0 (KVP and RESTful) of services of type ``wmts``; errors as OWS 1.1 reports."""

from __future__ import annotations

from ondemand.layer import Layer
from ondemand.tiles import WEB_MERCATOR

from ...protocol import AUTH_ARG, Access, Endpoint, Protocol, ServiceType, ViewerLinks
from .endpoints import error_report, kvp, rest_capabilities, rest_tile

CAPABILITIES = "/wmts/1.0.0/WMTSCapabilities.xml"
"""The REST capabilities document, below a service's root URL."""


def _fields(root: str) -> dict[str, object]:
    return {"capabilities_url": root + CAPABILITIES}


def _viewer_links(root: str, layer: Layer, maxzoom: int) -> dict[str, str]:
    capabilities = root + CAPABILITIES
    return {
        "wmts_capabilities": capabilities,
        "qgis_wmts": (
            f"contextualWMSLegend=0&crs=EPSG:3857&dpiMode=7&format=image/png"
            f"&layers={layer.id}&styles=default&tileMatrixSet={WEB_MERCATOR}"
            f"&url={capabilities}"
        ),
    }


_S = "/services/{service_id}/wmts"
PROTOCOL = Protocol(
    name="WMTS",
    endpoints=(
        Endpoint(_S, kvp, ("GET",), Access.SERVICE),
        Endpoint(_S + "/1.0.0/WMTSCapabilities.xml", rest_capabilities, ("GET",), Access.SERVICE),
        Endpoint(_S + "/tile/1.0.0/{path:path}", rest_tile, ("GET",), Access.SERVICE),
    ),
    service_types=(
        ServiceType(
            "wmts",
            "OGC WMTS 1.0.0, KVP and RESTful; time series layers have a Time dimension",
            AUTH_ARG,
        ),
    ),
    undocumented={_S: "OGC WMTS: XML capabilities and images (WMTSCapabilities.xml)"},
    errors=error_report,
    viewer=ViewerLinks("wmts", _viewer_links),
    service_fields=_fields,
)
