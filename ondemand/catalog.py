"""Collections and items of static STAC catalogs, with a spatio-temporal index.

A collection is loaded from one static ``collection.json`` (items linked with relative
hrefs) through pystac. Each item holds one single-band GeoTIFF per band (asset key =
band name). Band metadata comes from the STAC extensions (``eo:bands``,
``raster:bands``, ``proj:*``), the collection's ``summaries`` / ``item_assets`` and a few
``ondemand:`` fields (``ondemand:aliases`` on the collection, ``ondemand:band_id`` in an
``eo:bands`` entry). GeoTIFFs are opened only for facts STAC does not give.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pystac
import rasterio
from affine import Affine
from pystac.stac_io import DefaultStacIO
from rasterio.crs import CRS
from rasterio.errors import RasterioError

from .bandnames import known_common_name
from .errors import BandNotFound, CatalogInvalid, CollectionNotFound, InvalidCRS
from .item_index import ItemIndex, geometry_bbox
from .stac_fields import (
    bbox_geometry,
    collection_band_meta,
    is_data_asset,
    item_crs,
    item_identity,
    json_nodata,
    json_number,
    parse_nodata,
    public_stac,
)
from .window import Bounds

WGS84 = CRS.from_epsg(4326)


@dataclass(frozen=True)
class Band:
    """One band of a collection: identity, spectral facts and pixel encoding."""

    name: str
    band_id: str
    common_name: str | None
    wavelength_nm: float | None
    res_m: float | None
    dtype: str
    nodata: float | None
    scale: float = 1.0
    offset: float = 0.0
    unit: str | None = None


@dataclass(frozen=True)
class Asset:
    """The single-band GeoTIFF of one band of one item."""

    href: str
    band: str
    transform: Affine | None
    shape: tuple[int, int] | None


@dataclass(frozen=True, eq=False)
class Item:
    """One acquisition: a datetime, a footprint, a CRS and one asset per band.

    Compared and hashed by identity (usable as a dict key or in a set).
    """

    id: str
    datetime: datetime
    bbox: tuple[float, float, float, float]
    geometry: dict[str, Any]
    crs: CRS
    assets: Mapping[str, Asset]
    identity: str
    properties: Mapping[str, Any] = field(default_factory=dict)
    """The STAC item's properties (``eo:cloud_cover``, ``platform`` ...), as read."""


@dataclass(frozen=True, eq=False)
class Collection:
    """A collection of items sharing bands, with item search by bounds and dates.

    Compared and hashed by identity.
    """

    id: str
    title: str
    description: str
    source: str
    license: str
    bands: tuple[Band, ...]
    items: tuple[Item, ...]
    crs: CRS
    resolution: float
    bbox: tuple[float, float, float, float]
    interval: tuple[datetime, datetime]
    aliases: tuple[str, ...] = ()
    stac: dict[str, Any] = field(default_factory=dict)
    _index: ItemIndex = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.items:
            raise CatalogInvalid(f"Collection {self.id!r} has no items")
        if list(self.items) != sorted(self.items, key=lambda i: i.datetime):
            object.__setattr__(self, "items", tuple(sorted(self.items, key=lambda i: i.datetime)))
        object.__setattr__(self, "_index", ItemIndex(self.items))

    def band(self, ref: str | int) -> Band:
        """Resolve a band by name, band id, common name or an int meaning the band id.

        Matching is case-insensitive. A number that matches no band id also matches a
        band named like ``B08`` / ``B8``. Unknown or ambiguous -> :class:`BandNotFound`.
        """
        text = str(ref).strip()
        low = text.lower()
        candidates = (
            [b for b in self.bands if b.name == text],
            [b for b in self.bands if b.band_id.lower() == low],
            [b for b in self.bands if b.name.lower() == low],
        )
        for found in candidates:
            if found:
                return found[0]
        found = [b for b in self.bands if b.common_name and b.common_name.lower() == low]
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            names = ", ".join(b.name for b in found)
            raise BandNotFound(
                f"Band {ref!r} is ambiguous in collection {self.id!r}: it is the common "
                f"name of {names}; use a band name"
            )
        if low.isdigit():
            found = [b for b in self.bands if _band_number(b.name) == int(low)]
            if len(found) == 1:
                return found[0]
        raise BandNotFound(
            f"Collection {self.id!r} has no band {ref!r}; valid bands: {self._band_list()}"
        )

    def _band_list(self) -> str:
        """Names, band ids and common names of all bands, for error messages."""
        parts = []
        for b in self.bands:
            extra = [x for x in (b.band_id if b.band_id != b.name else None, b.common_name) if x]
            parts.append(f"{b.name} ({', '.join(extra)})" if extra else b.name)
        return ", ".join(parts)

    def search(
        self, bounds: Bounds, crs: CRS, start: datetime | None, end: datetime | None
    ) -> list[Item]:
        """Items whose footprint intersects ``bounds`` (in ``crs``) dated in ``[start, end]``.

        Both ends are inclusive, ``None`` leaves that end open; naive datetimes are UTC.
        The result is sorted by datetime.
        """
        return self._index.search(bounds, crs, start, end)

    def product(self) -> dict[str, Any]:
        """The draft's ``GET /data/{product_id}`` description of this collection."""
        left, bottom, right, top = self.bbox
        bands = []
        for b in self.bands:
            entry: dict[str, Any] = {
                "band_id": b.band_id,
                "name": b.common_name,
                "wavelength_nm": json_number(b.wavelength_nm),
                "res_m": json_number(b.res_m),
                "type": b.dtype,
                "scale": json_number(b.scale),
                "offset": json_number(b.offset),
                "unit": b.unit,
                "nodata": None if b.nodata is None else [json_nodata(b.nodata)],
            }
            bands.append({k: v for k, v in entry.items() if v is not None})
        return {
            "product_id": self.id,
            "description": self.description,
            "source": self.source,
            "extent": {"srs": "EPSG:4326", "left": left, "right": right,
                       "bottom": bottom, "top": top},
            "time": {"from": _utc_stamp(self.interval[0]), "to": _utc_stamp(self.interval[1])},
            "bands": bands,
        }


def _utc_stamp(moment: datetime) -> str:
    """An RFC 3339 date-time in UTC (the draft's ``time.from``/``to``); naive means UTC."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class Catalog:
    """Collections by id and alias; iteration yields each collection once.

    ``stac_roots`` are the folders under which ``load_stac`` may read local static STAC
    collections (none by default: only http(s) URLs).
    """

    def __init__(
        self, collections: Iterable[Collection], stac_roots: Iterable[Path] = ()
    ) -> None:
        self.stac_roots = tuple(Path(p).resolve() for p in stac_roots)
        self._primary: dict[str, Collection] = {}
        self._by_id: dict[str, Collection] = {}
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
    def load(cls, paths: Iterable[Path], stac_roots: Iterable[Path] = ()) -> Catalog:
        """Load each static STAC ``collection.json`` of ``paths``."""
        return cls((load_collection(Path(p)) for p in paths), stac_roots)

    def get(self, collection_id: str) -> Collection:
        """The collection of this id or alias, else :class:`CollectionNotFound`."""
        try:
            return self._by_id[collection_id]
        except KeyError:
            available = ", ".join(self._primary) or "none"
            raise CollectionNotFound(
                f"Collection {collection_id!r} not found; available: {available}"
            ) from None

    def __iter__(self) -> Iterator[Collection]:
        return iter(self._primary.values())

    def __contains__(self, collection_id: object) -> bool:
        return collection_id in self._by_id

    def __len__(self) -> int:
        return len(self._primary)


# --------------------------------------------------------------------------- loading


class _StacIO(DefaultStacIO):
    """pystac I/O that parses JSON with the standard library (accepts ``NaN`` nodata)."""

    def json_loads(self, txt: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """Parse JSON text (orjson, pystac's default when installed, rejects NaN)."""
        result: dict[str, Any] = json.loads(txt)
        return result


def load_collection(path: Path | str) -> Collection:
    """Load one static STAC collection (a file, or an http(s) URL as a string).

    Any defect raises :class:`CatalogInvalid`.
    """
    remote = isinstance(path, str) and path.startswith(("http://", "https://"))
    if not remote:
        path = Path(path).absolute()
        if not path.is_file():
            raise CatalogInvalid(f"STAC collection file {path} does not exist")
    try:
        stac_io = _StacIO()
        stac_coll = pystac.Collection.from_file(str(path), stac_io=stac_io)
        stac_items = list(stac_coll.get_items())
        raw = json.loads(stac_io.read_text(str(path)))
    except CatalogInvalid:
        raise
    except Exception as exc:  # pystac/json raise many types for a broken catalog
        raise CatalogInvalid(f"Cannot read STAC collection {path}: {exc}") from None
    if not stac_items:
        raise CatalogInvalid(f"STAC collection {path} has no items")
    try:
        return _build_collection(path, stac_coll, stac_items, raw)
    except CatalogInvalid:
        raise
    except (KeyError, TypeError, ValueError, RasterioError, InvalidCRS) as exc:
        raise CatalogInvalid(f"Invalid STAC collection {path}: {exc}") from None


def _build_collection(
    path: Path | str, coll: pystac.Collection, stac_items: list[pystac.Item], raw: dict[str, Any]
) -> Collection:
    """Turn pystac objects into a :class:`Collection`."""
    band_meta = collection_band_meta(coll)
    items = [_build_item(path, coll.id, it) for it in stac_items]
    items.sort(key=lambda i: i.datetime)
    first_assets: dict[str, tuple[Asset, dict[str, Any], Item]] = {}
    for item, stac_item in zip(items, stac_items_sorted(stac_items, items), strict=True):
        for key, asset in item.assets.items():
            if key not in first_assets:
                first_assets[key] = (asset, stac_item.assets[key].extra_fields, item)
    order = [n for n in band_meta if n in first_assets]
    order += [n for n in first_assets if n not in order]
    bands: list[Band] = []
    actual_res: list[float] = []
    for name in order:
        asset, extra, item = first_assets[name]
        band, res = _build_band(name, band_meta.get(name, {}), extra, asset, item)
        bands.append(band)
        if res is not None:
            actual_res.append(res)
    if not any(b.common_name for b in bands):  # the source names none: known S2/Landsat bands
        platform = items[0].properties.get("platform")
        bands = [replace(b, common_name=known_common_name(b.name, platform)) for b in bands]
    crs = Counter(i.crs for i in items).most_common(1)[0][0]
    if not actual_res:
        raise CatalogInvalid(f"STAC collection {path}: no band resolution can be found")
    bbox = (
        min(i.bbox[0] for i in items),
        min(i.bbox[1] for i in items),
        max(i.bbox[2] for i in items),
        max(i.bbox[3] for i in items),
    )
    aliases = tuple(str(a) for a in raw.get("ondemand:aliases", ()))
    providers = raw.get("providers") or []
    return Collection(
        id=coll.id,
        title=coll.title or coll.id,
        description=coll.description or "",
        source=", ".join(str(p.get("name", "")) for p in providers if p.get("name")),
        license=coll.license or "",
        bands=tuple(bands),
        items=tuple(items),
        crs=crs,
        resolution=min(actual_res),
        bbox=bbox,
        interval=(items[0].datetime, items[-1].datetime),
        aliases=aliases,
        stac=public_stac(raw),
    )


def stac_items_sorted(stac_items: list[pystac.Item], items: list[Item]) -> list[pystac.Item]:
    """The pystac items in the order of ``items`` (matched by id)."""
    by_id = {it.id: it for it in stac_items}
    return [by_id[i.id] for i in items]


def _build_item(path: Path | str, collection_id: str, it: pystac.Item) -> Item:
    """One :class:`Item` from a pystac item."""
    if it.datetime is None:
        start = it.common_metadata.start_datetime
        if start is None:
            raise CatalogInvalid(f"Item {it.id!r} of {path} has no datetime")
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
        raise CatalogInvalid(f"Item {it.id!r} of {path} has no raster assets")
    for band_asset in assets.values():
        if "://" not in band_asset.href and not os.path.exists(band_asset.href):
            raise CatalogInvalid(
                f"Item {it.id!r} of {path}: asset file {band_asset.href} is missing"
            )
    crs = item_crs(it, assets)
    geometry = it.geometry or bbox_geometry(it.bbox)
    raw_bbox = [float(v) for v in (it.bbox or geometry_bbox(geometry))]
    half = len(raw_bbox) // 2  # 2-D or 3-D bbox
    bbox = (raw_bbox[0], raw_bbox[1], raw_bbox[half], raw_bbox[half + 1])
    return Item(
        id=it.id,
        datetime=when,
        bbox=bbox,
        geometry=dict(geometry),
        crs=crs,
        assets=MappingProxyType(assets),
        identity=item_identity(it, assets),
        properties=MappingProxyType(dict(props)),
    )


def _build_band(
    name: str, coll_meta: dict[str, Any], extra: dict[str, Any], asset: Asset, item: Item
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
        band_id=str(eo.get("ondemand:band_id", name)),
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


def _band_number(name: str) -> int | None:
    """``B08`` / ``B8`` -> 8; other names -> None."""
    digits = name.lstrip("Bb")
    return int(digits) if digits.isdigit() and digits != name else None
