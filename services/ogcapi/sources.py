"""What a collection of the OGC API is, and how a request finds its collections.

The OGC API has two roots (see ``docs/ogc-api.md``):

- ``/services/{service_id}/ogcapi``, one per service of type ``ogcapi``: its one
  collection is the service's job, its id the service id. The route's declared access
  (``Access.SERVICE``) has already looked the service up: it runs, it is an ``ogcapi``
  service, and an owner-only one (``args.auth``) is read by its owner;
- ``/ogcapi``, public: the static catalogs' collections, for previews (every band of
  every date over the whole extent), and in its ``/collections`` list the caller's own
  running ``ogcapi`` services, linked to their roots. Another user's services are
  never listed (listing them would give their capability URLs away).
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from typing import Literal

from starlette.requests import Request

from ondemand.engine import Engine
from ondemand.errors import AuthenticationRequired, ResourceNotFound
from ondemand.layer import Layer, make_layer

from ..protocol import protocol_of_type, protocols_of
from ..published import Published, find_published, published_of
from ..state import run_blocking, state_of
from ..users import current_user

SERVICE_TYPE = "ogcapi"
PREFIX = "/ogcapi"
"""The public root of the catalog's collections."""

Kind = Literal["job", "collection"]


@dataclass(frozen=True)
class Source:
    """One OGC API collection: its id, words about it, its root URL and the layer behind it."""

    id: str
    title: str
    description: str
    kind: Kind
    layer: Layer
    base: str
    """The root URL of the OGC API it belongs to (``…/services/{id}/ogcapi`` or ``…/ogcapi``)."""


class _Previews:
    """Layers of catalog collections, compiled once per engine."""

    def __init__(self, size: int = 64) -> None:
        self._size = size
        self._layers: weakref.WeakKeyDictionary[Engine, OrderedDict[str, Layer]] = (
            weakref.WeakKeyDictionary()
        )
        self._lock = threading.Lock()

    def get(self, engine: Engine, collection_id: str, title: str) -> Layer:
        """The preview layer of a catalog collection (compiled on first use)."""
        with self._lock:
            layers = self._layers.setdefault(engine, OrderedDict())
            layer = layers.get(collection_id)
        if layer is not None:
            return layer
        compiled = engine.compile({"product_id": collection_id})
        layer = make_layer(collection_id, title, compiled)
        with self._lock:
            layers[collection_id] = layer
            while len(layers) > self._size:
                layers.popitem(last=False)
        return layer


_PREVIEWS = _Previews()


def server_url(request: Request) -> str:
    """``http://host:port``: where every link starts."""
    return str(request.base_url).rstrip("/")


def api_root(request: Request) -> str:
    """The root URL of the OGC API this request is under."""
    service_id = request.path_params.get("service_id")
    if service_id is None:
        return server_url(request) + PREFIX
    return f"{server_url(request)}/services/{service_id}/{SERVICE_TYPE}"


def _job_source(request: Request, published: Published) -> Source:
    service = published.service
    named = f" {service.title!r}" if service.title else ""
    description = (
        f"On-demand job {service.job_id}, computed window by window on request "
        f"(the {service.service_type} service{named})"
    )
    base = f"{server_url(request)}/services/{service.service_id}/{SERVICE_TYPE}"
    return Source(
        service.service_id, published.layer.title, description, "job", published.layer, base
    )


def _catalog_source(request: Request, collection_id: str) -> Source:
    state = state_of(request)
    collection = state.catalog.get(collection_id)
    layer = _PREVIEWS.get(state.engine, collection.id, collection.title)
    return Source(
        collection.id,
        collection.title,
        collection.description,
        "collection",
        layer,
        server_url(request) + PREFIX,
    )


def find_source(request: Request) -> Source:
    """The path's ``{collection_id}`` under the request's root (blocking: may compile).

    Anything else is ResourceNotFound, naming the collections there are.
    """
    collection_id = request.path_params["collection_id"]
    if "service_id" in request.path_params:
        source = _job_source(request, published_of(request))
        if collection_id != source.id:
            raise ResourceNotFound(
                f"Collection {collection_id!r} does not exist; this service's one collection "
                f"is {source.id!r}"
            )
        return source
    catalog = state_of(request).catalog
    if collection_id not in catalog:
        raise ResourceNotFound(
            f"Collection {collection_id!r} does not exist; GET {PREFIX}/collections lists them"
        )
    if not catalog.get(collection_id).complete:
        raise ResourceNotFound(
            f"Collection {collection_id!r} is searched in a STAC API: it has no preview over "
            "its whole extent; publish a job with a bounding box as an ogcapi service"
        )
    return _catalog_source(request, collection_id)


async def source_of(request: Request) -> Source:
    """:func:`find_source` without a thread hop where nothing blocks: a service's job was
    looked up (and compiled) by the route's access check; a catalog preview may compile."""
    if "service_id" in request.path_params:
        return find_source(request)
    return await run_blocking(request, find_source, request)


def list_sources(request: Request) -> list[Source]:
    """The collections of the request's root (blocking).

    A service's root: its job. ``/ogcapi``: the caller's running ``ogcapi`` services,
    then every collection of the static catalogs (a STAC API's collections have no
    whole-extent preview: their dates cannot be listed without reading every item).
    """
    if "service_id" in request.path_params:
        return [_job_source(request, published_of(request))]
    catalog = state_of(request).catalog
    previews = (_catalog_source(request, c.id) for c in catalog if c.complete)
    return [*_own_services(request), *previews]


def _own_services(request: Request) -> list[Source]:
    protocol = protocol_of_type(protocols_of(request), SERVICE_TYPE)
    if protocol is None:
        return []
    try:
        user = current_user(request)
    except AuthenticationRequired:
        return []  # anonymous: the catalog only
    sources = []
    for service in state_of(request).jobs.list_services(user):
        if service.service_type != SERVICE_TYPE:
            continue
        try:
            published = find_published(request, service.service_id, protocol)
        except ResourceNotFound:
            continue  # its job is stopped: not readable, not listed
        sources.append(_job_source(request, published))
    return sources
