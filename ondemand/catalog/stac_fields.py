"""Facts read from STAC JSON: band metadata, data assets, CRS, identity, nodata, footprints.

Shared by static catalogs and STAC API searches; :mod:`.build` turns them into the model.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pystac
import rasterio
from rasterio.crs import CRS

from ..errors import CatalogInvalid
from ..text import file_label
from ..window import parse_crs
from .item_index import exteriors

log = logging.getLogger("ondemand.catalog")

if TYPE_CHECKING:
    from .model import Asset

NON_DATA_ROLES = frozenset({"thumbnail", "overview", "metadata", "visual"})

BandMeta = dict[str, dict[str, Any]]
"""Per asset key: the collection's ``eo`` and ``raster`` facts and ``gsd``."""


def collection_band_meta(summaries: Mapping[str, Any], item_assets: Mapping[str, Any]) -> BandMeta:
    """Band facts from a collection's ``summaries`` eo:bands and ``item_assets``."""
    meta: BandMeta = {}
    for entry in summaries.get("eo:bands") or []:
        if isinstance(entry, dict) and "name" in entry:
            meta.setdefault(str(entry["name"]), {}).update(eo=entry)
    for key, spec in item_assets.items():
        if not isinstance(spec, dict) or set(spec.get("roles") or ()) & NON_DATA_ROLES:
            continue
        slot = meta.setdefault(str(key), {})
        eo = (spec.get("eo:bands") or [{}])[0]
        slot["eo"] = {**slot.get("eo", {}), **eo}
        slot["raster"] = (spec.get("raster:bands") or [{}])[0]
        if "gsd" in spec:
            slot["gsd"] = spec["gsd"]
    return meta


def is_data_asset(asset: pystac.Asset) -> bool:
    """Whether an asset is a GeoTIFF raster band (not a thumbnail, metadata or JPEG 2000)."""
    roles = set(asset.roles or ())
    if roles & NON_DATA_ROLES and "data" not in roles:
        return False
    media = (asset.media_type or "").lower()
    href = asset.href.lower().split("?")[0]
    if "jp2" in media or href.endswith(".jp2"):
        return False
    return "tiff" in media or href.endswith((".tif", ".tiff")) or "data" in roles


def is_local(href: str) -> bool:
    """Whether an href is a local file path (not a URL)."""
    return "://" not in href or href.startswith("file://")


def item_crs(it: pystac.Item, assets: Mapping[str, Asset]) -> CRS:
    """The item's CRS from ``proj:*`` (item or first asset) or else the first file."""
    sources = [it.properties] + [it.assets[k].extra_fields for k in assets]
    for src in sources:
        if src.get("proj:epsg"):
            return parse_crs(int(src["proj:epsg"]))
        if src.get("proj:code"):
            return parse_crs(str(src["proj:code"]))
        if src.get("proj:wkt2"):
            return parse_crs(str(src["proj:wkt2"]))
        if src.get("proj:projjson"):
            return CRS.from_user_input(json.dumps(src["proj:projjson"]))
    first = next(iter(assets.values()))
    with rasterio.open(first.href) as ds:
        if ds.crs is None:
            raise CatalogInvalid(f"Item {it.id!r}: no proj:* CRS and {file_label(first.href)} "
                                 "has no CRS")
        return CRS.from_user_input(ds.crs)


def item_identity(it: pystac.Item, assets: Mapping[str, Asset]) -> str:
    """What changes when the item does.

    STAC ``updated`` if present; else for local files every asset's mtime (ns), not only
    the newest (rewriting an older band file must change it); else a hash of the item's
    JSON (a remote item whose metadata or hrefs change).
    """
    updated = it.properties.get("updated")
    if updated:
        return str(updated)
    local = [a.href for a in assets.values() if is_local(a.href)]
    if local and len(local) == len(assets):
        return ":".join(str(os.stat(h).st_mtime_ns) for h in local)
    text = json.dumps(it.to_dict(include_self_link=False, transform_hrefs=False), sort_keys=True)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()[:32]


def parse_nodata(value: Any) -> float | None:
    """STAC nodata: a number or one of the strings ``nan``, ``inf``, ``-inf``."""
    if value is None:
        return None
    return float(value)


def public_stac(raw: dict[str, Any]) -> dict[str, Any]:
    """The collection JSON with local links dropped (only absolute URLs kept)."""
    out = dict(raw)
    out["links"] = [
        link for link in raw.get("links", [])
        if isinstance(link, dict) and str(link.get("href", "")).startswith(("http://", "https://"))
        and link.get("rel") not in ("self", "root", "parent", "item", "child", "items")
    ]
    return out


def bbox_geometry(bbox: list[float] | None) -> dict[str, Any]:
    """A GeoJSON polygon of a bbox."""
    if not bbox:
        raise CatalogInvalid("item has neither geometry nor bbox")
    w, s, e, n = bbox[0], bbox[1], bbox[-2], bbox[-1]
    return {"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]}


def geometry_bbox(geometry: dict[str, Any]) -> tuple[float, float, float, float]:
    """The bbox of a Polygon/MultiPolygon."""
    pts = np.concatenate([np.asarray(r, dtype=float)[:, :2] for r in exteriors(geometry)])
    return (float(pts[:, 0].min()), float(pts[:, 1].min()),
            float(pts[:, 0].max()), float(pts[:, 1].max()))


def json_nodata(value: float) -> float | str:
    """Nodata for JSON: NaN and infinities as the STAC strings ``nan``/``inf``/``-inf``."""
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return json_number(value)  # type: ignore[return-value]


def json_number(value: float | None) -> float | int | None:
    """Integral floats as ints, so JSON shows ``60`` rather than ``60.0``."""
    if value is None:
        return None
    return int(value) if float(value).is_integer() else value


def usable_items(stac_items: list[pystac.Item], collection_id: str,
                 where: str) -> list[pystac.Item]:
    """Items whose local asset files exist; an item missing one is disabled with a warning
    (CatalogInvalid when none is left). ``where``: the collection file."""
    kept = []
    for it in stac_items:
        gone = missing_asset(it)
        if gone is None:
            kept.append(it)
        else:
            log.warning("Item %r of collection %r disabled: its asset file %s is missing",
                        it.id, collection_id, file_label(gone, os.path.dirname(where)))
    if not kept:
        raise CatalogInvalid(
            f"STAC collection {file_label(where)}: no item has all its asset files"
        )
    return kept


def missing_asset(it: pystac.Item) -> str | None:
    """The first local data-asset file of ``it`` that does not exist (None: all do)."""
    for asset in it.assets.values():
        href = (asset.get_absolute_href() or asset.href).removeprefix("file://")
        if is_data_asset(asset) and is_local(href) and not os.path.exists(href):
            return href
    return None
