"""Signed tile URLs for the viewer of an owner-only service (a browser sends no headers
with the tiles it loads): the signature the page starts with, and its renewal."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ondemand.errors import ResourceNotFound
from ondemand.jobs import ServiceRecord

from ..published import requires_auth
from ..state import run_blocking, state_of
from ..users import current_user


def signature_config(request: Request, service: ServiceRecord) -> dict[str, Any] | None:
    """``{"query", "exp"}`` to append to the service's URLs; None for a public service.

    Blocking (the signing key may be read from the database): run it in a worker thread.
    """
    if not requires_auth(service):
        return None
    signature = state_of(request).signer.sign(service.service_id, service.user_id)
    return {"query": signature.query(), "exp": signature.exp}


async def viewer_signature(request: Request) -> Response:
    """``GET /jobs/{id}/viewer/signature?service=<id>``: a fresh signature for the caller's
    owner-only service of that job (the viewer renews its tile URLs with it)."""
    user = current_user(request)
    state = state_of(request)
    job = state.jobs.get_job(request.path_params["job_id"], user)
    service_id = request.query_params.get("service") or ""
    service = next(
        (s for s in state.jobs.list_services(user)
         if s.service_id == service_id and s.job_id == job.job_id),
        None,
    )
    if service is None:
        raise ResourceNotFound(f"Job {job.job_id!r} has no service {service_id!r} of yours")
    config = await run_blocking(request, signature_config, request, service)
    return JSONResponse(config or {"query": "", "exp": None})
