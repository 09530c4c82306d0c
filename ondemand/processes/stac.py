"""load_stac: a static STAC collection that is not in the catalog, by http(s) URL or path.

The collection is read with pystac (item and asset hrefs resolve against the
collection's URL; GDAL reads remote GeoTIFFs over HTTP range requests) and then
behaves like ``load_collection``: the same extents, bands and metadata filters.
Its id is its URL, so nothing it reads is confused with a catalog collection. Local
paths (or ``file://`` URLs) are read only under the catalog's ``stac_roots``; loaded
collections are kept for a minute.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..catalog import Collection, load_collection
from ..errors import ArgumentInvalid, CatalogInvalid
from .collection import LOAD_COLLECTION, check_narrowing, exclusive, load_normalize, narrow
from .context import CollectionView, EvalContext
from .params import CUBE_RETURNS
from .registry import Parameter, Process
from .types import CatalogLike, Check, ValueType

KEEP_SECONDS = 60.0
"""How long a loaded collection is reused before its URL is read again."""
_LOADED: dict[str, tuple[float, Collection]] = {}
_LOCK = threading.Lock()


def _source(url: str, catalog: CatalogLike) -> str:
    """The URL, or the resolved local path after checking it lies under a STAC root."""
    if url.startswith(("http://", "https://")):
        return url
    path = Path(url.removeprefix("file://")).resolve()
    roots: tuple[Path, ...] = getattr(catalog, "stac_roots", ())
    if not any(path == root or root in path.parents for root in roots):
        raise ArgumentInvalid(
            f"argument 'url': {url!r} is not an http(s) URL, and local STAC collections are "
            "read only under the server's STAC folders"
            + (f" ({', '.join(str(r) for r in roots)})" if roots else " (none are configured)")
        )
    return str(path)


def open_stac(url: Any, catalog: CatalogLike) -> Collection:
    """The static STAC collection at ``url`` (ArgumentInvalid naming 'url' if unreadable)."""
    if not isinstance(url, str) or not url.strip():
        raise ArgumentInvalid(f"argument 'url': expected the URL of a STAC collection, got "
                              f"{url!r}")
    source = _source(url.strip(), catalog)
    now = time.monotonic()
    with _LOCK:
        kept = _LOADED.get(source)
    if kept is not None and now - kept[0] < KEEP_SECONDS:
        return kept[1]
    try:
        loaded = load_collection(source if "://" in source else Path(source))
    except CatalogInvalid as exc:
        raise ArgumentInvalid(f"argument 'url': {exc.message}") from None
    collection = dataclasses.replace(loaded, id=url.strip(), aliases=())
    with _LOCK:
        _LOADED[source] = (now, collection)
    return collection


def _check(c: Check) -> ValueType:
    try:
        collection = open_stac(c.literal("url"), c.catalog)
    except ArgumentInvalid as exc:
        raise ArgumentInvalid(f"{c.where}: {exc.message}") from None
    return check_narrowing(c, collection)


def _load_stac(args: Mapping[str, Any], ctx: EvalContext) -> CollectionView:
    view = CollectionView(open_stac(args["url"], ctx.catalog))
    return narrow(view, args, ctx, "load_stac")


LOAD_STAC = Process(
    id="load_stac",
    summary="Load data from a static STAC collection",
    description=(
        "Reads a static STAC collection that is not in the catalog: `url` is its "
        "`collection.json` over http(s) (or a local path under the server's STAC folders). "
        "Items need a datetime and one GeoTIFF asset per band (asset key = band name), as "
        "catalog collections do. Extents, bands and property filters work as in "
        "`load_collection` (the end date is excluded through the openEO API)."
    ),
    parameters=(
        Parameter("url", "URL of the STAC collection.",
                  {"type": "string", "format": "uri", "subtype": "uri"}),
        *LOAD_COLLECTION.parameters[1:],
    ),
    returns=CUBE_RETURNS,
    implementation=_load_stac,
    check=_check,
    normalize=load_normalize,
    openeo_normalize=lambda node_id, args: exclusive(args, "temporal_extent"),
    categories=("cubes", "import"),
)

PROCESSES = (LOAD_STAC,)
