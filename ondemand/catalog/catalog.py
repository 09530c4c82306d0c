"""The catalog: collections by id and alias, from static catalogs and STAC APIs."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import rasterio

from ..errors import CatalogInvalid, CollectionNotFound, OnDemandError
from ..gdalenv import gdal_options
from ..settings import Settings
from .api import ApiOptions, StacApi
from .build import Signer
from .model import Collection
from .static import load_collection

log = logging.getLogger("ondemand")


class Catalog:
    """Collections by id and alias; iteration yields each collection once.

    ``problems`` says which sources could not be loaded (a STAC API down at start);
    a lookup of a missing collection names them. ``stac_roots`` are the folders under
    which ``load_stac`` may read local static STAC collections (none by default: only
    http(s) URLs).
    """

    def __init__(
        self,
        collections: Iterable[Collection],
        problems: Sequence[str] = (),
        stac_roots: Iterable[Path] = (),
    ) -> None:
        self.stac_roots = tuple(Path(p).resolve() for p in stac_roots)
        self._primary: dict[str, Collection] = {}
        self._by_id: dict[str, Collection] = {}
        self.problems = tuple(problems)
        for coll in collections:
            for name in (coll.id, *coll.aliases):
                if name in self._by_id:
                    raise CatalogInvalid(
                        f"Collection id or alias {name!r} is used by both "
                        f"{self._by_id[name].id!r} and {coll.id!r}"
                    )
                self._by_id[name] = coll
            self._primary[coll.id] = coll

    @classmethod
    def load(cls, paths: Iterable[Path | str], stac_roots: Iterable[Path] = ()) -> Catalog:
        """Load each static STAC ``collection.json`` of ``paths`` (local paths or URLs)."""
        return cls((load_collection(p) for p in paths), stac_roots=stac_roots)

    def get(self, collection_id: str) -> Collection:
        """The collection of this id or alias, else :class:`CollectionNotFound`."""
        try:
            return self._by_id[collection_id]
        except KeyError:
            available = ", ".join(self._primary) or "none"
            unavailable = "".join(f"; {p}" for p in self.problems)
            raise CollectionNotFound(
                f"Collection {collection_id!r} not found; available: {available}{unavailable}"
            ) from None

    def __iter__(self) -> Iterator[Collection]:
        return iter(self._primary.values())

    def __contains__(self, collection_id: object) -> bool:
        return collection_id in self._by_id

    def __len__(self) -> int:
        return len(self._primary)


def open_catalog(paths: Iterable[Path], settings: Settings) -> Catalog:
    """The server's catalog: local static collections (``paths``), static collections over
    HTTP(S) and the collections of each STAC API of ``settings``.

    Local catalogs must load (a broken one stops the server). A remote source that cannot
    be reached is logged and recorded in :attr:`Catalog.problems`; the others are served.
    Band facts STAC leaves out are read from the files with the GDAL options of remote
    reads (``ondemand.gdalenv``: S3 endpoint and credentials, time-outs).
    """
    with rasterio.Env(**gdal_options(settings)):
        return _open(paths, settings)


def _open(paths: Iterable[Path], settings: Settings) -> Catalog:
    """See :func:`open_catalog`."""
    sign = load_signer(settings.sign_hrefs)
    collections = [load_collection(p) for p in paths]
    problems: list[str] = []
    for url in settings.catalog_urls:
        try:
            collections.append(load_collection(url, sign=sign, timeout=settings.stac_timeout))
        except CatalogInvalid as exc:
            problems.append(_problem(exc))
    options = api_options(settings, sign)
    for url in settings.stac_apis:
        try:
            api = StacApi(url, options)
            ids = api.collection_ids()
        except OnDemandError as exc:
            problems.append(_problem(exc))
            continue
        for cid in ids:
            if settings.stac_collections and cid not in settings.stac_collections:
                continue
            try:
                collections.append(api.collection(cid))
            except OnDemandError as exc:
                problems.append(_problem(exc))
    found = {c.id for c in collections}
    for cid in settings.stac_collections:
        if cid not in found and not problems:
            problems.append(_problem(CatalogInvalid(
                f"no STAC API of {', '.join(settings.stac_apis) or '(none given)'} serves "
                f"collection {cid!r}")))
    taken: set[str] = set()
    unique = []
    for coll in collections:
        if taken & {coll.id, *coll.aliases}:
            problems.append(_problem(CatalogInvalid(f"collection id {coll.id!r} is served twice; "
                                                    "the first one is kept")))
            continue
        taken |= {coll.id, *coll.aliases}
        unique.append(coll)
    return Catalog(unique, problems)


def api_options(settings: Settings, sign: Signer | None) -> ApiOptions:
    """How STAC APIs are searched, from the settings."""
    return ApiOptions(
        page_size=settings.stac_page_size,
        max_items=settings.stac_max_items,
        cache_seconds=settings.stac_cache_seconds,
        cache_entries=settings.stac_cache_entries,
        timeout=settings.stac_timeout,
        retries=settings.stac_retries,
        sign=sign,
    )


def load_signer(spec: str | None) -> Signer | None:
    """The href-signing function ``module:function`` (e.g. ``planetary_computer:sign``)."""
    if not spec:
        return None
    module_name, _, attr = spec.partition(":")
    try:
        fn = getattr(importlib.import_module(module_name), attr or "sign")
    except (ImportError, AttributeError) as exc:
        raise CatalogInvalid(f"Cannot load the href signing function {spec!r}: {exc}") from None
    if not callable(fn):
        raise CatalogInvalid(f"The href signing hook {spec!r} is not a function")
    signer: Signer = fn
    return signer


def _problem(exc: OnDemandError) -> str:
    """Log a source that could not be loaded and return its message."""
    log.error("ondemand: %s", exc.message)
    return exc.message
