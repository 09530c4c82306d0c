"""The OpenAPI 3 description of the JSON API, served at ``GET /openapi.json``.

Assembled from the protocols of the registry: each declares the paths it documents
(the draft API's are in :mod:`.schema`) and the route prefixes it leaves out with the
reason (OGC protocols and map tiles answer XML or images and are described by their
own capabilities documents). ``tests/api/test_openapi.py`` checks the document
against the application's routes and runs schemathesis against a live server.
"""

from __future__ import annotations

import copy
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..protocol import Protocol, protocols_of, service_types
from .discovery import API_VERSION
from .schema import COMPONENTS


def excluded(protocols: tuple[Protocol, ...]) -> dict[str, str]:
    """Route path prefixes left out of the description, with the reason."""
    return {prefix: why for p in protocols for prefix, why in p.undocumented.items()}


def document(protocols: tuple[Protocol, ...]) -> dict[str, Any]:
    """The OpenAPI 3.0 document of ``protocols`` (a fresh copy each call)."""
    components = copy.deepcopy(COMPONENTS)
    kinds = components["schemas"]["ServiceBody"]["properties"]["type"]
    kinds["enum"] = list(service_types(protocols))  # filled from the registry
    paths = {path: item for p in protocols for path, item in p.openapi.items()}
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "ondemand",
            "version": API_VERSION,
            "description": "On-demand Earth-observation processing: process graphs, jobs, "
                           "files and their publication as OGC services. Errors are "
                           '{"code", "message"} with a 4xx status (503 when busy).',
            "license": {"name": "Apache-2.0"},
        },
        "security": [{"Basic": []}, {"Bearer": []}],
        "paths": copy.deepcopy(paths),
        "components": components,
    }


async def openapi_json(request: Request) -> Response:
    """``GET /openapi.json``: the description of the JSON API."""
    return JSONResponse(document(protocols_of(request)))
