"""Find the layer behind a service URL: the one lookup every OGC and tile endpoint makes."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

from ondemand.errors import ResourceNotFound
from ondemand.jobs import ServiceRecord
from ondemand.layer import Layer

from .state import state_of


@dataclass(frozen=True)
class Published:
    """A service and the layer of its job."""

    service: ServiceRecord
    layer: Layer


def service_layer(request: Request, service_id: str) -> Published:
    """The service's record and compiled layer; unknown or stopped -> ResourceNotFound.

    Service URLs are capability URLs (the id is unguessable), so no user check here.
    """
    state = state_of(request)
    service = state.jobs.get_service(service_id, None)
    job = state.jobs.get_job(service.job_id, None)
    if job.mode != "on_demand" or job.status != "running":
        raise ResourceNotFound(
            f"Service {service_id!r} is stopped: its job {job.job_id!r} is not running on demand"
        )
    return Published(service=service, layer=state.layers.get(state.engine, job))
