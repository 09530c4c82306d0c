"""The protocol registry: every protocol this server speaks, one line each.

The app's routes, ``POST /services`` (which ``type`` values exist),
``/capabilities/services``, ``/openapi.json``, the viewer's links and the service
links all read :data:`PROTOCOLS`. Adding a protocol is one subpackage that builds a
:class:`~services.protocol.Protocol` and one line here (``docs/protocols.md``).
Order matters only where routes could overlap: the first match wins.
"""

from __future__ import annotations

from . import api, maps, ogcapi
from .api import openeo
from .ogc import wcs, wmts
from .protocol import Protocol

PROTOCOLS: tuple[Protocol, ...] = (
    api.PROTOCOL,  # the 2018 API draft: discovery, jobs, batch, services, files, auth
    wcs.PROTOCOL,  # OGC WCS 1.0.0 and 2.0.1 (service type wcs)
    maps.PROTOCOL,  # XYZ/TMS tiles, TileJSON, point values (service types xyz, tms)
    wmts.PROTOCOL,  # OGC WMTS 1.0.0 (service type wmts)
    ogcapi.PROTOCOL,  # OGC API - Tiles and - Coverages (service type ogcapi; /ogcapi previews)
    openeo.PROTOCOL,  # openEO API 1.2 at /openeo/1.2 over the same jobs and services
    maps.VIEWER,  # the web pages and their static files
)
