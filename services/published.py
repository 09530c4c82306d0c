"""Find the layer behind a service URL: the one lookup every OGC and tile endpoint makes."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

from ondemand.errors import ResourceNotFound
from ondemand.jobs import ServiceRecord
from ondemand.layer import Layer

from .state import state_of
from .users import current_user


def requires_auth(service: ServiceRecord) -> bool:
    """Whether a service was published for its owner only (``args: {"auth": true}``)."""
    return service.args.get("auth") is True


@dataclass(frozen=True)
class Published:
    """A service and the layer of its job."""

    service: ServiceRecord
    layer: Layer


def service_layer(request: Request, service_id: str) -> Published:
    """The service's record and compiled layer; unknown or stopped -> ResourceNotFound.

    Service URLs are capability URLs (the id is unguessable): anyone with the URL may
    read the layer, unless the service was created with ``args: {"auth": true}``; then
    only its owner, authenticated (HTTP Basic works for GDAL and QGIS), and anyone
    else gets 404 exactly like an unknown id.
    """
    state = state_of(request)
    service = state.jobs.get_service(service_id, None)
    if requires_auth(service) and current_user(request) != service.user_id:
        raise ResourceNotFound(f"Service {service_id!r} does not exist")
    job = state.jobs.get_job(service.job_id, None)
    if job.mode != "on_demand" or job.status != "running":
        raise ResourceNotFound(
            f"Service {service_id!r} is stopped: its job {job.job_id!r} is not running on demand"
        )
    return Published(service=service, layer=state.layers.get(state.engine, job))
