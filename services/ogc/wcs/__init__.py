"""OGC WCS 1.0.0 and 2.0.1 of services of type ``wcs``, on one KVP route.

Both versions share the route and the service type; ``VERSION`` (or the service's
``args.VERSION`` for a GetCapabilities without one) picks the version, and errors
answer in its dialect: a ``ServiceExceptionReport`` 1.2.0 for 1.0.0
(:mod:`.v10`), an OWS 2.0 ``ows:ExceptionReport`` for 2.0.1 (:mod:`.v20`).
"""

from __future__ import annotations

from ondemand.layer import Layer

from ...protocol import AUTH_ARG, Access, Endpoint, Protocol, ServiceType, ViewerLinks
from .endpoints import error_report, wcs


def _viewer_links(root: str, layer: Layer, maxzoom: int) -> dict[str, str]:
    return {"wcs": f"{root}/wcs"}


PROTOCOL = Protocol(
    name="WCS",
    endpoints=(Endpoint("/services/{service_id}/wcs", wcs, ("GET",), Access.SERVICE),),
    service_types=(
        ServiceType(
            "wcs",
            "OGC WCS 1.0.0 and 2.0.1",
            {
                "VERSION": {"description": "Default version: 1.0.0 or 2.0.1", "default": "2.0.1"},
                **AUTH_ARG,
            },
        ),
    ),
    undocumented={
        "/services/{service_id}/wcs": "OGC WCS 1.0.0/2.0.1: XML documents and GeoTIFF coverages"
    },
    errors=error_report,
    viewer=ViewerLinks("wcs", _viewer_links),
)
