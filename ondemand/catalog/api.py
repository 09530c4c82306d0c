"""Collections of a STAC API: metadata from ``/collections/{id}``, items searched per request.

Nothing is listed whole. At start each collection costs one ``/collections/{id}``
request and one search for its earliest item (which fixes the native pixel grid and
the band facts STAC leaves out); afterwards every window's items come from an item
search (bbox, datetime, collection; paged), kept a short time in a bounded cache
keyed by the collection, the bbox snapped outward to a coarse grid and the dates, so
the tiles of one map share a few searches.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import pystac
import requests
from pystac_client import Client
from pystac_client.conformance import ConformanceClasses
from pystac_client.exceptions import APIError
from pystac_client.stac_api_io import StacApiIO
from rasterio.crs import CRS
from rasterio.errors import RasterioError
from urllib3.util.retry import Retry

from ..errors import CatalogInvalid, InvalidCRS, PixelLimitExceeded, RemoteUnavailable
from ..window import Bounds, parse_crs
from .build import Signer, build_bands, build_item
from .item_index import ItemIndex, query_in_wgs84
from .model import Collection, Item
from .searchcache import SearchCache
from .stac_fields import collection_band_meta, public_stac
from .static import providers_text


@dataclass(frozen=True)
class ApiOptions:
    """How a STAC API is searched (from the settings' ``stac_*`` values, which hold the
    defaults: :func:`ondemand.catalog.catalog.api_options`)."""

    page_size: int
    """Items per page of a search."""
    max_items: int
    """A search finding more items than this fails (narrow the bbox or dates)."""
    cache_seconds: float
    """How long search results are reused; also how long a changed item may go unseen."""
    cache_entries: int
    timeout: float
    """Seconds one request to the API may take."""
    retries: int
    """Retries of a failed request (connection errors, 502/503/504), with back-off."""
    sign: Signer | None = None


log = logging.getLogger("ondemand")

SnappedBox = tuple[float, float, float, float]
T = TypeVar("T")


class StacApi:
    """One STAC API: its client, its collections and one search cache."""

    def __init__(self, url: str, options: ApiOptions) -> None:
        self.url = url.rstrip("/")
        self.options = options
        retry = Retry(total=options.retries, connect=options.retries, read=options.retries,
                      backoff_factor=0.2, status_forcelist=(502, 503, 504),
                      allowed_methods=None, raise_on_status=False)
        io = StacApiIO(timeout=options.timeout, max_retries=retry)
        self.cache: SearchCache[ItemIndex[Item]] = SearchCache(
            options.cache_entries, options.cache_seconds
        )
        self._client: Client = self._call("open", lambda: Client.open(self.url, stac_io=io))
        self.can_query = self._client.conforms_to(ConformanceClasses.QUERY)
        """Whether searches take the STAC ``query`` extension (property filters)."""
        self.can_filter = self._client.conforms_to(ConformanceClasses.FILTER)
        """Whether searches take a CQL2 ``filter`` (used when ``query`` is not offered)."""

    @property
    def searches(self) -> int:
        """Item searches made so far (cache misses)."""
        return self.cache.misses

    def collection_ids(self) -> list[str]:
        """The ids of every collection the API serves."""
        return self._call("list collections",
                          lambda: [c.id for c in self._client.get_collections()])

    def collection(self, collection_id: str) -> Collection:
        """The collection ``collection_id`` with its bands, grid, extent and item search."""
        stac = self._call(f"read collection {collection_id!r}",
                          lambda: self._client.get_collection(collection_id))
        if stac is None:
            raise CatalogInvalid(f"STAC API {self.url} has no collection {collection_id!r}")
        raw = stac.to_dict(include_self_link=False, transform_hrefs=False)
        where = f"{self.url}/collections/{collection_id}"
        sample = self._earliest(collection_id, _interval(raw)[0])
        if sample is None:
            raise CatalogInvalid(f"STAC API collection {where} has no items")
        try:
            return self._build(collection_id, raw, sample, where)
        except CatalogInvalid:
            raise
        except (KeyError, TypeError, ValueError, RasterioError, InvalidCRS) as exc:
            raise CatalogInvalid(f"Invalid STAC API collection {where}: {exc}") from None

    def _build(self, cid: str, raw: dict[str, Any], sample: pystac.Item, where: str) -> Collection:
        summaries = raw.get("summaries") or {}
        band_meta = collection_band_meta(summaries, raw.get("item_assets") or {})
        item = build_item(sample, where, self.options.sign)
        first = {k: (a, sample.assets[k].extra_fields) for k, a in item.assets.items()}
        bands, resolution = build_bands(band_meta, first, where, item.properties.get("platform"))
        spatial = ((raw.get("extent") or {}).get("spatial") or {}).get("bbox") or [item.bbox]
        box = [float(v) for v in spatial[0]]
        half = len(box) // 2
        start, end = _interval(raw)
        return Collection(
            id=cid,
            title=str(raw.get("title") or cid),
            description=str(raw.get("description") or ""),
            source=providers_text(raw),
            license=str(raw.get("license") or ""),
            bands=bands,
            items=(item,),
            crs=_collection_crs(summaries, item.crs),
            resolution=resolution,
            bbox=(box[0], box[1], box[half], box[half + 1]),
            interval=(_when(start, item.datetime), _when(end, datetime.now(UTC))),
            stac=public_stac(raw),
            finder=SearchedItems(self, cid),
        )

    def _earliest(self, collection_id: str, start: Any) -> pystac.Item | None:
        """The collection's earliest item: sorted by datetime where the API can sort, else
        the first item at or before the start of the collection's temporal extent."""
        def first(**kwargs: Any) -> pystac.Item | None:
            search = self._client.search(collections=[collection_id], limit=1, max_items=1,
                                         **kwargs)
            return next(iter(search.items()), None)

        what = f"search collection {collection_id!r}"
        if self._client.conforms_to(ConformanceClasses.SORT):
            return self._call(what, lambda: first(sortby="+properties.datetime"))
        if start:
            found = self._call(what, lambda: first(datetime=f"../{start}"))
            if found is not None:
                return found
        return self._call(what, lambda: first())

    def search(self, collection_id: str, box: SnappedBox, start: datetime | None,
               end: datetime | None, query: Mapping[str, Any] | None = None
               ) -> ItemIndex[Item]:
        """The items of one (collection, snapped bbox, dates, query), searched or cached."""
        key = (collection_id, box, _iso(start), _iso(end), json.dumps(query, sort_keys=True))
        return self.cache.get(
            key, lambda: ItemIndex(self._fetch(collection_id, box, start, end, query))
        )

    def _fetch(self, collection_id: str, box: SnappedBox, start: datetime | None,
               end: datetime | None, query: Mapping[str, Any] | None = None) -> list[Item]:
        """Run one paged search; more than ``max_items`` results is PixelLimitExceeded."""
        limit = self.options.max_items
        where = f"{self.url} collection {collection_id!r}"

        def run() -> list[pystac.Item]:
            search = self._client.search(
                collections=[collection_id], bbox=box,
                datetime=None if start is None and end is None else f"{_iso(start)}/{_iso(end)}",
                limit=self.options.page_size, max_items=limit + 1, **self._narrowing(query),
            )
            return list(search.items())

        found = self._call(f"search collection {collection_id!r}", run)
        if len(found) > limit:
            raise PixelLimitExceeded(
                f"The search of {where} over {box} finds more than {limit} items; narrow the "
                "bounding box or the dates"
            )
        items = []
        for it in found:
            try:
                items.append(build_item(it, where, self.options.sign))
            except (CatalogInvalid, KeyError, TypeError, ValueError, InvalidCRS,
                    RasterioError) as exc:  # one broken item must not break every map
                log.warning("ondemand: skipping item %r of %s: %s", it.id, where, exc)
        return sorted(items, key=lambda i: (i.datetime, i.id))

    def _narrowing(self, query: Mapping[str, Any] | None) -> dict[str, Any]:
        """Search arguments for property conditions: the ``query`` extension, else a CQL2
        ``filter``, else none (the server filters what comes back)."""
        if not query:
            return {}
        if self.can_query:
            return {"query": dict(query)}
        if self.can_filter:
            return {"filter": cql2_filter(query), "filter_lang": "cql2-json"}
        return {}

    def _call(self, what: str, fn: Callable[[], T]) -> T:
        """Run a request to the API; network and API failures are RemoteUnavailable."""
        try:
            return fn()
        except (APIError, requests.RequestException, OSError, pystac.STACError,
                NotImplementedError, ValueError) as exc:  # NotImplemented: no ITEM_SEARCH
            raise RemoteUnavailable(
                f"STAC API {self.url} is unavailable ({what}): {_reason(exc)}"
            ) from None


class SearchedItems:
    """The :class:`ItemSource` of a STAC API collection: a cached search per window."""

    complete = False

    def __init__(self, api: StacApi, collection_id: str,
                 query: Mapping[str, Any] | None = None) -> None:
        self.api = api
        self.collection_id = collection_id
        self.query = dict(query or {})

    def narrowed(self, query: Mapping[str, Any]) -> SearchedItems:
        """This source with ``query`` sent along (where the API can filter by properties)."""
        if not (self.api.can_query or self.api.can_filter):
            return self
        return SearchedItems(self.api, self.collection_id, {**self.query, **query})

    def search(
        self, bounds: Bounds, crs: CRS, start: datetime | None, end: datetime | None
    ) -> list[Item]:
        """Items under ``bounds`` in ``[start, end]``: the snapped search, filtered exactly."""
        left, bottom, right, top = (float(v) for v in bounds)
        box = snap_bbox(query_in_wgs84(crs, (left, bottom, right, top)).bbox)
        found = self.api.search(self.collection_id, box, start, end, self.query)
        return found.search(bounds, crs, start, end)


SNAP_FACTOR = 8
"""A search covers a grid cell up to this many times the window's size (a 10 x 10 tile map
needs at most 9 searches)."""
MIN_CELL_DEGREES = 2.0**-10


def snap_bbox(bbox: tuple[float, float, float, float]) -> SnappedBox:
    """Grow a WGS84 bbox outward to a power-of-two degree grid about 8 times its size.

    Windows of one map level snap to the same few cells, so their searches are shared.
    A bbox crossing the antimeridian becomes the whole longitude range.
    """
    west, south, east, north = bbox
    if west > east:
        west, east = -180.0, 180.0
    span = max(east - west, north - south, MIN_CELL_DEGREES)
    cell = min(2.0 ** math.ceil(math.log2(span * SNAP_FACTOR)), 512.0)
    snapped = (
        max(-180.0, math.floor(west / cell) * cell),
        max(-90.0, math.floor(south / cell) * cell),
        min(180.0, math.ceil(east / cell) * cell),
        min(90.0, math.ceil(north / cell) * cell),
    )
    return snapped


CQL2_OPERATORS = {"eq": "=", "neq": "<>", "lt": "<", "lte": "<=", "gt": ">", "gte": ">="}
"""The ``query`` extension's comparisons as CQL2 operators."""


def cql2_filter(query: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """A ``query`` (``{"eo:cloud_cover": {"lte": 20}}``) as CQL2-JSON: all conditions hold."""
    conditions = [
        {"op": CQL2_OPERATORS[op], "args": [{"property": name}, value]}
        for name, tests in query.items() for op, value in tests.items()
    ]
    return conditions[0] if len(conditions) == 1 else {"op": "and", "args": conditions}


def _collection_crs(summaries: dict[str, Any], fallback: CRS) -> CRS:
    """The one CRS the summaries list (``proj:code`` / ``proj:epsg``), else the sample's."""
    codes = summaries.get("proj:code") or []
    if isinstance(codes, list) and len(codes) == 1:
        return parse_crs(str(codes[0]))
    epsgs = summaries.get("proj:epsg") or []
    if isinstance(epsgs, list) and len(epsgs) == 1:
        return parse_crs(int(epsgs[0]))
    return fallback


def _interval(raw: dict[str, Any]) -> tuple[Any, Any]:
    """The first temporal interval of a collection JSON (either end may be None)."""
    temporal = ((raw.get("extent") or {}).get("temporal") or {}).get("interval") or [[]]
    start, end = (list(temporal[0]) + [None, None])[:2]
    return start, end


def _when(text: Any, default: datetime) -> datetime:
    """A STAC interval end as an aware datetime (open ends take ``default``)."""
    if not text:
        return default
    parsed = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _iso(when: datetime | None) -> str:
    """A search datetime bound; open ends are ``..``."""
    if when is None:
        return ".."
    aware = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    return aware.isoformat().replace("+00:00", "Z")


def _reason(exc: BaseException) -> str:
    """A one-line reason from a requests/pystac-client error."""
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__
