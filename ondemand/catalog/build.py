"""STAC items and collection band facts to the catalog model: items and bands.

Shared by static catalogs and STAC API searches. Band facts come from the STAC
extensions (``eo:bands``, ``raster:bands``, ``proj:*``), the collection's
``summaries`` / ``item_assets`` and a few ``ondemand:`` fields (``ondemand:band_id``
in an ``eo:bands`` entry). GeoTIFFs are opened only for facts STAC does not give.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from datetime import UTC
from types import MappingProxyType
from typing import Any

import pystac
import rasterio
from affine import Affine

from ..bandnames import known_common_name
from ..errors import CatalogInvalid
from ..text import file_label
from .model import Asset, Band, Item
from .stac_fields import (
    BandMeta,
    bbox_geometry,
    geometry_bbox,
    is_data_asset,
    is_local,
    item_crs,
    item_identity,
    parse_nodata,
)

Signer = Callable[[str], str]
"""Turns an asset href into the URL to read (signing, e.g. Planetary Computer SAS tokens)."""


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
                f"Item {it.id!r} of {where}: asset file {file_label(band_asset.href)} is missing"
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
        identity=item_identity(it, assets),
        properties=MappingProxyType(dict(props)),
    )


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


