"""STAC JSON to the catalog model: items, band metadata and bands.

Shared by static catalogs and STAC API searches. Band facts come from the STAC
extensions (``eo:bands``, ``raster:bands``, ``proj:*``), the collection's
``summaries`` / ``item_assets`` and a few ``ondemand:`` fields (``ondemand:band_id``
in an ``eo:bands`` entry). GeoTIFFs are opened only for facts STAC does not give.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from datetime import UTC
from types import MappingProxyType
from typing import Any

import numpy as np
import pystac
import rasterio
from affine import Affine
from rasterio.crs import CRS

from ..bandnames import known_common_name
from ..errors import CatalogInvalid
from ..window import parse_crs
from .index import exteriors
from .model import Asset, Band, Item

NON_DATA_ROLES = frozenset({"thumbnail", "overview", "metadata", "visual"})

Signer = Callable[[str], str]
"""Turns an asset href into the URL to read (signing, e.g. Planetary Computer SAS tokens)."""

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


def build_item(it: pystac.Item, where: str, sign: Signer | None = None) -> Item:
    """One :class:`Item` from a pystac item; ``sign`` maps remote hrefs to readable URLs."""
    if it.datetime is None:
        start = it.common_metadata.start_datetime
        if start is None:
            raise CatalogInvalid(f"Item {it.id!r} of {where} has no datetime")
        when = start
    else:
        when = it.datetime
    when = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    assets: dict[str, Asset] = {}
    props = it.properties
    for key, a in it.assets.items():
        if not is_data_asset(a):
            continue
        href = a.get_absolute_href() or a.href
        if href.startswith("file://"):
            href = href[len("file://"):]
        elif sign is not None and not is_local(href):
            href = sign(href)
        extra = a.extra_fields
        tr = extra.get("proj:transform", props.get("proj:transform"))
        shape = extra.get("proj:shape", props.get("proj:shape"))
        assets[key] = Asset(
            href=href,
            band=key,
            transform=Affine(*[float(v) for v in tr[:6]]) if tr else None,
            shape=(int(shape[0]), int(shape[1])) if shape else None,
        )
    if not assets:
        raise CatalogInvalid(f"Item {it.id!r} of {where} has no raster assets")
    for band_asset in assets.values():
        if is_local(band_asset.href) and not os.path.exists(band_asset.href):
            raise CatalogInvalid(
                f"Item {it.id!r} of {where}: asset file {band_asset.href} is missing"
            )
    geometry = it.geometry or bbox_geometry(it.bbox)
    raw_bbox = [float(v) for v in (it.bbox or geometry_bbox(geometry))]
    half = len(raw_bbox) // 2  # 2-D or 3-D bbox
    return Item(
        id=it.id,
        datetime=when,
        bbox=(raw_bbox[0], raw_bbox[1], raw_bbox[half], raw_bbox[half + 1]),
        geometry=dict(geometry),
        crs=item_crs(it, assets),
        assets=MappingProxyType(assets),
        identity=identity(it, assets),
        properties=MappingProxyType(dict(props)),
    )


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
            raise CatalogInvalid(f"Item {it.id!r}: no proj:* CRS and {first.href} has no CRS")
        return CRS.from_user_input(ds.crs)


def identity(it: pystac.Item, assets: Mapping[str, Asset]) -> str:
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


def build_bands(
    band_meta: BandMeta,
    first_assets: Mapping[str, tuple[Asset, dict[str, Any]]],
    where: str,
    platform: object = None,
) -> tuple[tuple[Band, ...], float]:
    """Bands (collection order first) from the first asset of each key, and the finest pixel.

    When the source names no common name at all, known Sentinel-2 / Landsat band names of
    ``platform`` get theirs (``ondemand.bandnames``).
    """
    order = [n for n in band_meta if n in first_assets]
    order += [n for n in first_assets if n not in order]
    bands: list[Band] = []
    actual_res: list[float] = []
    for name in order:
        asset, extra = first_assets[name]
        band, res = build_band(name, band_meta.get(name, {}), extra, asset)
        bands.append(band)
        if res is not None:
            actual_res.append(res)
    if not actual_res:
        raise CatalogInvalid(f"STAC collection {where}: no band resolution can be found")
    if not any(b.common_name for b in bands):
        bands = [replace(b, common_name=known_common_name(b.name, platform)) for b in bands]
    return tuple(bands), min(actual_res)


def first_assets_of(
    items: Iterable[Item], stac_items: Mapping[str, pystac.Item]
) -> dict[str, tuple[Asset, dict[str, Any]]]:
    """Per asset key, its first asset (items in order) and that asset's STAC fields."""
    first: dict[str, tuple[Asset, dict[str, Any]]] = {}
    for item in items:
        for key, asset in item.assets.items():
            if key not in first:
                first[key] = (asset, stac_items[item.id].assets[key].extra_fields)
    return first


def build_band(
    name: str, coll_meta: dict[str, Any], extra: dict[str, Any], asset: Asset
) -> tuple[Band, float | None]:
    """A :class:`Band` from collection- and asset-level metadata, and its actual pixel size."""
    eo = {**coll_meta.get("eo", {}), **((extra.get("eo:bands") or [{}])[0])}
    raster = {**coll_meta.get("raster", {}), **((extra.get("raster:bands") or [{}])[0])}
    actual: float | None = None
    if asset.transform is not None:
        actual = min(abs(asset.transform.a), abs(asset.transform.e))
    elif raster.get("spatial_resolution"):
        actual = float(raster["spatial_resolution"])
    dtype = raster.get("data_type")
    has_nodata = "nodata" in raster
    nodata = parse_nodata(raster["nodata"]) if has_nodata else None
    if dtype is None or not has_nodata or actual is None:
        with rasterio.open(asset.href) as ds:
            dtype = dtype or ds.dtypes[0]
            if not has_nodata:
                nodata = None if ds.nodata is None else float(ds.nodata)
            if actual is None:
                actual = min(abs(ds.transform.a), abs(ds.transform.e))
    nominal = coll_meta.get("gsd", extra.get("gsd", eo.get("ondemand:res_m")))
    res = float(nominal) if nominal is not None else (
        float(raster["spatial_resolution"]) if raster.get("spatial_resolution") else actual
    )
    wavelength = eo.get("center_wavelength")
    band = Band(
        name=name,
        band_id=str(eo.get("ondemand:band_id") or eo.get("name") or name),
        common_name=eo.get("common_name"),
        wavelength_nm=None if wavelength is None else round(float(wavelength) * 1000, 3),
        res_m=res,
        dtype=str(dtype),
        nodata=nodata,
        scale=float(raster.get("scale", 1.0)),
        offset=float(raster.get("offset", 0.0)),
        unit=raster.get("unit"),
    )
    return band, actual


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
