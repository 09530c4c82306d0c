"""Publishing jobs as services: ``/services`` and ``/capabilities/services``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ondemand.errors import ArgumentInvalid, ArgumentMissing
from ondemand.jobs import ServiceRecord, check_mode_change
from ondemand.text import check_title

from ..body import read_json
from ..protocol import protocol_of_type, protocols_of, service_types
from ..state import state_of
from ..users import current_user


def service_body(request: Request, service: ServiceRecord) -> dict[str, Any]:
    """The draft's service object, with the URL clients open and its protocol's links."""
    base = str(request.base_url).rstrip("/")
    root = f"{base}/services/{service.service_id}"
    url = f"{root}/{service.service_type}"
    protocol = protocol_of_type(protocols_of(request), service.service_type)
    fields = {}
    if protocol is not None and protocol.service_fields is not None:
        fields = protocol.service_fields(root)
    body: dict[str, Any] = {
        "service_id": service.service_id,
        "service_url": url,
        "service_type": service.service_type,
        "service_args": service.args,
        "job_id": service.job_id,
        "title": service.title,
        "created": service.created,
        **{k: v for k, v in fields.items() if k != "links"},
        "links": [
            *fields.get("links", []),
            {"rel": "job", "href": f"{base}/jobs/{service.job_id}"},
            {"rel": "viewer", "href": f"{base}/jobs/{service.job_id}/viewer", "type": "text/html"},
        ],
    }
    return {k: v for k, v in body.items() if v is not None}


def service_args(args: Any) -> Mapping[str, Any]:
    """Check a service's arguments: an object; ``auth``, when given, a boolean."""
    if not isinstance(args, Mapping):
        raise ArgumentInvalid('"args" must be an object')
    if "auth" in args and not isinstance(args["auth"], bool):
        raise ArgumentInvalid(
            '"args.auth" must be true (only the owner, authenticated, may read the service) '
            "or false"
        )
    return args


async def create_service(request: Request) -> Response:
    """``POST /services``: publish a job; a job not yet running starts on demand."""
    state = state_of(request)
    body = await read_json(request, state.settings.max_body_bytes)
    if not isinstance(body, Mapping):
        raise ArgumentInvalid('The body must be {"job_id": ..., "type": "wmts", "args": {...}}')
    job_id = body.get("job_id")
    if not isinstance(job_id, str) or not job_id:
        raise ArgumentMissing('Required service argument "job_id" is missing')
    kind = body.get("type", body.get("service_type"))
    known = ", ".join(service_types(protocols_of(request)))
    if not isinstance(kind, str) or not kind:
        raise ArgumentMissing(f'Required service argument "type" is missing ({known})')
    kind = kind.lower()
    if kind not in service_types(protocols_of(request)):
        raise ArgumentInvalid(f"Service type {kind!r} is not supported; use one of {known}")
    args = service_args(body.get("args", body.get("service_args")) or {})
    title = check_title(body.get("title"))
    user = current_user(request)
    job = state.jobs.get_job(job_id, user)
    check_mode_change(job, "on_demand")
    if job.mode != "on_demand" or job.status != "running":
        state.jobs.update_job(job.job_id, user, mode="on_demand", status="running")
    service = state.jobs.create_service(job.job_id, user, kind, args, title)
    return JSONResponse(
        service_body(request, service), headers={"Location": f"/services/{service.service_id}"}
    )


async def list_services(request: Request) -> Response:
    """``GET /services``: the caller's services."""
    services = state_of(request).jobs.list_services(current_user(request))
    return JSONResponse([service_body(request, s) for s in services])


async def get_service(request: Request) -> Response:
    """``GET /services/{id}``."""
    service = state_of(request).jobs.get_service(
        request.path_params["service_id"], current_user(request)
    )
    return JSONResponse(service_body(request, service))


async def patch_service(request: Request) -> Response:
    """``PATCH /services/{id}``: change ``args`` (``service_args``) or ``title``."""
    state = state_of(request)
    body = await read_json(request, state.settings.max_body_bytes)
    if not isinstance(body, Mapping):
        raise ArgumentInvalid('The body must be an object such as {"args": {...}}')
    given = body.get("args", body.get("service_args"))
    args = None if given is None else service_args(given)
    title = check_title(body.get("title"))
    state.jobs.update_service(request.path_params["service_id"], current_user(request), args, title)
    return Response(status_code=204)


async def delete_service(request: Request) -> Response:
    """``DELETE /services/{id}``: stop and delete a service."""
    state_of(request).jobs.delete_service(request.path_params["service_id"], current_user(request))
    return Response(status_code=204)


async def list_service_types(request: Request) -> Response:
    """``GET /capabilities/services``: the service type names, the draft's array of strings
    (openEO 1.x's ``/service_types`` is the richer form, types with their arguments)."""
    return JSONResponse(list(service_types(protocols_of(request))))
