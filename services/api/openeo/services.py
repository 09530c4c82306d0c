"""Secondary web services from a process graph: ``/services`` in openEO 1.2's shape.

``POST /services {"process", "type": "XYZ"|"WMTS"|"WCS", "configuration"}`` stores
the graph as a job running on demand and publishes it exactly like the draft's
``POST /services``: the ``url`` is the XYZ template, the WMTS capabilities or the WCS
endpoint that QGIS and GDAL open.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ondemand.errors import ArgumentInvalid, ServiceConfigInvalid, ServiceUnsupported
from ondemand.jobs import ServiceRecord

from ...state import AppState, state_of
from .auth import api_url, server_url, user_of
from .submit import created, patched_process, read_patch, read_submission, store_job, title_of

AUTH: dict[str, Any] = {
    "description": "true: only the owner may read the service, authenticated (HTTP Basic "
    "or a Bearer token); false: anyone with the URL.",
    "type": "boolean",
    "default": False,
}

SERVICE_TYPES: dict[str, dict[str, Any]] = {
    "XYZ": {
        "kind": "xyz",
        "title": "XYZ tiles",
        "description": "Web Mercator (WebMercatorQuad) PNG tiles: url is a template with "
        "{z}, {x} and {y} for QGIS (XYZ Tiles), Leaflet or OpenLayers.",
        "configuration": {"auth": AUTH},
    },
    "WMTS": {
        "kind": "wmts",
        "title": "OGC WMTS 1.0.0",
        "description": "KVP and RESTful WMTS; url is the capabilities document. Time series "
        "layers have a Time dimension.",
        "configuration": {"auth": AUTH},
    },
    "WCS": {
        "kind": "wcs",
        "title": "OGC WCS 1.0.0 and 2.0.1",
        "description": "Coverages of the result in any CRS, size and format; url is the "
        "KVP endpoint.",
        "configuration": {
            "version": {
                "description": "Default WCS version when a request names none.",
                "type": "string",
                "enum": ["1.0.0", "2.0.1"],
                "default": "2.0.1",
            },
            "auth": AUTH,
        },
    },
}
"""The service types of ``GET /service_types``, with the draft's service kind."""

EDITABLE = frozenset({"title", "description", "configuration", "enabled", "process"})
KIND_TO_TYPE = {spec["kind"]: name for name, spec in SERVICE_TYPES.items()}


def service_types_document() -> dict[str, Any]:
    """The body of ``GET /service_types``."""
    return {
        name: {
            "title": spec["title"],
            "description": spec["description"],
            "configuration": spec["configuration"],
            "process_parameters": [],
            "links": [],
        }
        for name, spec in SERVICE_TYPES.items()
    }


def _type_of(value: Any) -> str:
    """The canonical service type of a (case-insensitive) type name."""
    if isinstance(value, str):
        for name in SERVICE_TYPES:
            if name.lower() == value.strip().lower():
                return name
    raise ServiceUnsupported(
        f"Service type {value!r} is not supported; use one of {', '.join(SERVICE_TYPES)}"
    )


def configuration_args(service_type: str, configuration: Any) -> dict[str, Any]:
    """Check a 1.x configuration and turn it into the draft's service arguments."""
    if configuration is None:
        return {}
    if not isinstance(configuration, Mapping):
        raise ServiceConfigInvalid('"configuration" must be an object')
    known = SERVICE_TYPES[service_type]["configuration"]
    args: dict[str, Any] = {}
    for name, value in configuration.items():
        if name not in known:
            raise ServiceConfigInvalid(
                f"Service parameter {name!r} is not supported by {service_type}; "
                f"it takes: {', '.join(known)}"
            )
        if name == "auth" and not isinstance(value, bool):
            raise ServiceConfigInvalid('Service parameter "auth" must be true or false')
        if name == "version":
            if value not in known["version"]["enum"]:
                raise ServiceConfigInvalid('Service parameter "version" must be 1.0.0 or 2.0.1')
            args["VERSION"] = value
        else:
            args[name] = value
    return args


def service_url(request: Request, service: ServiceRecord) -> str:
    """The URL clients open: XYZ template, WMTS capabilities or WCS endpoint."""
    root = f"{server_url(request)}/services/{service.service_id}"
    if service.service_type == "xyz":
        return f"{root}/xyz/{{z}}/{{x}}/{{y}}.png"
    if service.service_type == "wmts":
        return f"{root}/wmts/1.0.0/WMTSCapabilities.xml"
    return f"{root}/{service.service_type}"


def service_body(request: Request, state: AppState, service: ServiceRecord) -> dict[str, Any]:
    """One service in 1.x's shape, with its process."""
    job = state.jobs.get_job(service.job_id, None)
    configuration = {
        ("version" if k == "VERSION" else k): v for k, v in service.args.items()
    }
    return {
        "id": service.service_id,
        "title": service.title,
        "url": service_url(request, service),
        "type": KIND_TO_TYPE.get(service.service_type, service.service_type.upper()),
        "enabled": job.mode == "on_demand" and job.status == "running",
        "configuration": configuration,
        "attributes": {"job_id": job.job_id},
        "created": service.created,
        "process": {"process_graph": job.process_graph},
    }


async def create_service(request: Request) -> Response:
    """``POST /services``: 201 with ``Location`` and ``OpenEO-Identifier``."""
    submission = await read_submission(request)
    service_type = _type_of(submission.body.get("type"))
    args = configuration_args(service_type, submission.body.get("configuration"))
    job = await store_job(request, submission, keep_output=False)
    jobs, user = submission.state.jobs, submission.user
    if submission.body.get("enabled", True) is not False:
        jobs.update_job(job.job_id, user, mode="on_demand", status="running")
    kind = SERVICE_TYPES[service_type]["kind"]
    service = jobs.create_service(job.job_id, user, kind, args, submission.title)
    return created(f"{api_url(request)}/services/{service.service_id}", service.service_id)


async def list_services(request: Request) -> Response:
    """``GET /services``: ``{"services": [...], "links": []}``."""
    user = await user_of(request)
    state = state_of(request)
    services = []
    for service in state.jobs.list_services(user):
        body = service_body(request, state, service)
        body.pop("process")
        services.append(body)
    return JSONResponse({"services": services, "links": []})


async def _service(request: Request) -> ServiceRecord:
    """The caller's service of the path (ServiceNotFound otherwise)."""
    user = await user_of(request)
    return state_of(request).jobs.get_service(request.path_params["service_id"], user)


async def get_service(request: Request) -> Response:
    """``GET /services/{service_id}``."""
    service = await _service(request)
    return JSONResponse(service_body(request, state_of(request), service))


async def patch_service(request: Request) -> Response:
    """``PATCH /services/{service_id}``: title, configuration, enabled or process."""
    service = await _service(request)
    state = state_of(request)
    body = await read_patch(request, EDITABLE, "title, configuration, enabled or process")
    service_type = KIND_TO_TYPE.get(service.service_type, "XYZ")
    args = None
    if "configuration" in body:
        args = configuration_args(service_type, body["configuration"])
    title = title_of(body)
    if "process" in body:
        fields = await patched_process(request, body, service.user_id, keep_output=False)
        state.jobs.update_job(service.job_id, service.user_id, **fields)
    if "enabled" in body:
        if not isinstance(body["enabled"], bool):
            raise ArgumentInvalid('"enabled" must be true or false')
        mode, status = ("on_demand", "running") if body["enabled"] else ("none", "submitted")
        state.jobs.update_job(service.job_id, service.user_id, mode=mode, status=status)
    if args is not None or title is not None:
        state.jobs.update_service(service.service_id, service.user_id, args, title)
    return Response(status_code=204)


async def delete_service(request: Request) -> Response:
    """``DELETE /services/{service_id}``: stop and delete the service."""
    service = await _service(request)
    state_of(request).jobs.delete_service(service.service_id, service.user_id)
    return Response(status_code=204)
