"""Facts read from STAC JSON for the catalog: band metadata, CRS, identity, nodata, footprints."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from typing import Any, Protocol

import pystac
import rasterio
from rasterio.crs import CRS

from .errors import CatalogInvalid
from .window import parse_crs

NON_DATA_ROLES = frozenset({"thumbnail", "overview", "metadata", "visual"})


class HasHref(Protocol):
    """An asset: what the CRS and identity lookups need of it."""

    @property
    def href(self) -> str:
        """Where the asset's file is."""


def collection_band_meta(coll: pystac.Collection) -> dict[str, dict[str, Any]]:
    """Band facts from the collection: ``summaries`` eo:bands and ``item_assets``."""
    meta: dict[str, dict[str, Any]] = {}
    summaries = coll.summaries.to_dict() if coll.summaries is not None else {}
    for entry in summaries.get("eo:bands") or []:
        if isinstance(entry, dict) and "name" in entry:
            meta.setdefault(str(entry["name"]), {}).update(eo=entry)
    item_assets = coll.extra_fields.get("item_assets") or {}
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
    """Whether an asset is a raster band (not a thumbnail or a metadata file)."""
    roles = set(asset.roles or ())
    if roles & NON_DATA_ROLES and "data" not in roles:
        return False
    media = (asset.media_type or "").lower()
    href = asset.href.lower().split("?")[0]
    return "tiff" in media or href.endswith((".tif", ".tiff")) or "data" in roles


def item_crs(it: pystac.Item, assets: Mapping[str, HasHref]) -> CRS:
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
            raise CatalogInvalid(f"Item {it.id!r}: no proj:* CRS and {first.href} has no CRS")
        return CRS.from_user_input(ds.crs)


def item_identity(it: pystac.Item, assets: Mapping[str, HasHref]) -> str:
    """STAC ``updated`` if present, else every asset file's mtime (ns), else the id.

    All mtimes, not the newest: rewriting an older band file must change the identity.
    """
    updated = it.properties.get("updated")
    if updated:
        return str(updated)
    mtimes = [str(os.stat(a.href).st_mtime_ns) for a in assets.values() if "://" not in a.href]
    return ":".join(mtimes) if mtimes else it.id


def parse_nodata(value: Any) -> float | None:
    """STAC nodata: a number or one of the strings ``nan``, ``inf``, ``-inf``."""
    if value is None:
        return None
    return float(value)


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


def public_stac(raw: dict[str, Any]) -> dict[str, Any]:
    """The collection JSON with local links dropped (only absolute URLs kept)."""
    out = dict(raw)
    out["links"] = [
        link for link in raw.get("links", [])
        if isinstance(link, dict) and str(link.get("href", "")).startswith(("http://", "https://"))
        and link.get("rel") not in ("self", "root", "parent", "item", "child")
    ]
    return out


def bbox_geometry(bbox: list[float] | None) -> dict[str, Any]:
    """A GeoJSON polygon of a bbox."""
    if not bbox:
        raise CatalogInvalid("item has neither geometry nor bbox")
    w, s, e, n = bbox[0], bbox[1], bbox[-2], bbox[-1]
    return {"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]}
