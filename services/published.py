"""Find the layer behind a service URL: the one lookup every OGC and tile endpoint makes."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

from ondemand.errors import ResourceNotFound
from ondemand.jobs import ServiceRecord
from ondemand.layer import Layer

from .protocol import Protocol
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
    signed: bool = False
    """Whether the request carries a live signature of the service (:func:`signed`)."""


def signed(request: Request, service: ServiceRecord) -> bool:
    """Whether the request carries a live signature of this service (``exp`` and ``sig``
    from :class:`ondemand.signing.UrlSigner`), whose owner still has an account."""
    exp, sig = request.query_params.get("exp"), request.query_params.get("sig")
    if not exp or not sig:
        return False
    state = state_of(request)
    if state.auth is not None and not state.auth.exists(service.user_id):
        return False
    return state.signer.verify(service.service_id, service.user_id, exp, sig)


def service_layer(request: Request, protocol: Protocol) -> Published:
    """The record and compiled layer of the path's service, as ``protocol`` may serve it.

    Unknown, stopped, of a type ``protocol`` does not serve, or owner-only and not the
    caller's: ResourceNotFound, all alike. Service URLs are capability URLs (the id is
    unguessable): anyone with the URL may read the layer, unless the service was
    created with ``args: {"auth": true}``; then only its owner, authenticated (HTTP
    Basic works for GDAL and QGIS), or a URL the owner had signed (:func:`signed`).
    """
    return find_published(request, request.path_params["service_id"], protocol)


def find_published(request: Request, service_id: str, protocol: Protocol) -> Published:
    """The service ``service_id`` as ``protocol`` may serve it to this caller (see
    :func:`service_layer`); for listings that name services outside the path."""
    state = state_of(request)
    service = state.jobs.get_service(service_id, None)
    by_signature = signed(request, service)
    if requires_auth(service) and not by_signature:
        if current_user(request) != service.user_id:
            raise ResourceNotFound(f"Service {service_id!r} does not exist")
    if service.service_type not in protocol.type_names:
        raise ResourceNotFound(
            f"Service {service_id!r} is a {service.service_type} service, not {protocol.name}"
        )
    job = state.jobs.get_job(service.job_id, None)
    if job.mode != "on_demand" or job.status != "running":
        raise ResourceNotFound(
            f"Service {service_id!r} is stopped: its job {job.job_id!r} is not running on demand"
        )
    return Published(service=service, layer=state.layers.get(state.engine, job),
                     signed=by_signature)


def published_of(request: Request) -> Published:
    """The service a SERVICE route was called for (looked up before its handler ran)."""
    published = request.state.published
    assert isinstance(published, Published)
    return published
