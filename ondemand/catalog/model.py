"""The catalog's data model: bands, assets, items and collections.

A :class:`Collection` holds the facts every request needs (bands, native CRS and
resolution, extent, dates) and an :class:`ItemSource` that finds its items under a
window: an in-memory index for a static catalog, a search for a STAC API.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Protocol, runtime_checkable

from affine import Affine
from rasterio.crs import CRS

from ..errors import BandNotFound, CatalogInvalid
from ..window import Bounds
from .item_index import ItemIndex
from .stac_fields import json_nodata, json_number


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

    Compared and hashed by identity (usable as a dict key or in a set). ``identity``
    changes whenever the item does (STAC ``updated``, file times or a content hash),
    so cache keys built from it never serve stale pixels.
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


class ItemSource(Protocol):
    """Where a collection's items come from: searched per window, never listed whole."""

    @property
    def complete(self) -> bool:
        """Whether ``Collection.items`` holds every item (a static catalog) or a sample."""

    def search(
        self, bounds: Bounds, crs: CRS, start: datetime | None, end: datetime | None
    ) -> list[Item]:
        """Items intersecting ``bounds`` (in ``crs``) dated in ``[start, end]``, by datetime."""


@dataclass(frozen=True, eq=False)
class Collection:
    """A collection of items sharing bands, with item search by bounds and dates.

    ``items`` are the items known without a search: all of them for a static
    catalog, the earliest one (which fixes the native pixel grid) for a STAC API.
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
    finder: ItemSource | None = None
    """How items are found; None builds an in-memory index of ``items``."""

    def __post_init__(self) -> None:
        if not self.items:
            raise CatalogInvalid(f"Collection {self.id!r} has no items")
        if list(self.items) != sorted(self.items, key=lambda i: i.datetime):
            object.__setattr__(self, "items", tuple(sorted(self.items, key=lambda i: i.datetime)))
        stale = isinstance(self.finder, ItemIndex) and self.finder.items != self.items
        if self.finder is None or stale:  # a copy with other items gets its own index
            object.__setattr__(self, "finder", ItemIndex(self.items))

    @property
    def complete(self) -> bool:
        """Whether :attr:`items` lists every item of the collection."""
        assert self.finder is not None
        return self.finder.complete

    def where(
        self, keep: Callable[[Item], bool], query: Mapping[str, Any] | None = None
    ) -> Collection:
        """This collection holding only the items ``keep`` accepts (a property filter).

        A static collection keeps the accepted items (none: :class:`CatalogInvalid`); a
        searched one filters each search's results, and a source that can narrow its
        searches by the STAC ``query`` extension (``{"eo:cloud_cover": {"lte": 20}}``, the
        same conditions as far as they translate) sends it along.
        """
        if self.complete:
            return replace(self, items=tuple(i for i in self.items if keep(i)))
        assert self.finder is not None
        source = self.finder
        if query and isinstance(source, Queryable):
            source = source.narrowed(query)
        return replace(self, finder=FilteredItems(source, keep))

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
            found = [b for b in self.bands if band_number(b.band_id) == int(low)]
            found = found or [b for b in self.bands if band_number(b.name) == int(low)]
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
        assert self.finder is not None
        return self.finder.search(bounds, crs, start, end)

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


@runtime_checkable
class Queryable(Protocol):
    """An item source that can narrow its searches by a STAC ``query``."""

    def narrowed(self, query: Mapping[str, Any]) -> ItemSource:
        """The same source with ``query`` added to every search."""


class FilteredItems:
    """An item source whose search results pass a predicate."""

    complete = False

    def __init__(self, source: ItemSource, keep: Callable[[Item], bool]) -> None:
        self.source = source
        self.keep = keep

    def search(
        self, bounds: Bounds, crs: CRS, start: datetime | None, end: datetime | None
    ) -> list[Item]:
        """The source's items that pass."""
        return [i for i in self.source.search(bounds, crs, start, end) if self.keep(i)]


def band_number(name: str) -> int | None:
    """``B08`` / ``B8`` -> 8; other names -> None."""
    digits = name.lstrip("Bb")
    return int(digits) if digits.isdigit() and digits != name else None
