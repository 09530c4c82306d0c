"""The evaluation contract: lazy collection views, the context protocol, ``as_cube``.

``load_collection`` returns a :class:`CollectionView`; ``filter_bbox``,
``filter_temporal``, ``filter_bands`` and ``mask`` narrow it without reading. Compute
processes call :func:`as_cube` with exactly the bands they need, which calls
``ctx.load`` once (plus the bands masks need). The evaluator provides ``ctx``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
from rasterio.crs import CRS
from rasterio.features import geometry_mask
from rasterio.warp import transform_bounds

from ..cube import Cube
from ..errors import ArgumentInvalid, BandNotFound, OutOfBounds
from ..geometry import reproject
from ..window import Bounds, Window
from .types import CatalogLike, CollectionLike

if TYPE_CHECKING:
    from ..catalog import Item
    from ..userfiles import FileStore


class EvalContext(Protocol):
    """What implementations need from the evaluator."""

    @property
    def window(self) -> Window:
        """The target grid and time selection."""

    @property
    def catalog(self) -> CatalogLike:
        """The collections ``load_collection`` reads from."""

    def load(self, view: CollectionView, bands: Sequence[str] | None) -> Cube:
        """Read ``bands`` of ``view`` on ``window``'s grid.

        ``bands`` are band names of ``view.collection`` (they may include bands that
        ``view.bands`` filtered out, when a mask needs them); ``None`` means
        ``view.band_names``. The cube is float32 with scale/offset applied, nodata
        masked, one time step per date of the view that has data, bands in the
        order asked. ``view.masks`` are not applied by the loader (``as_cube`` does).
        """

    def load_native(
        self, view: CollectionView, bands: Sequence[str] | None, item: Item, window: Window
    ) -> Cube:
        """Read ``bands`` of the one ``item`` on ``window``, a window on the item's own grid.

        Like :meth:`load` without resampling, with one time step (the item's datetime);
        zonal statistics read native pixels this way.
        """

    @property
    def user_files(self) -> FileStore | None:
        """The calling user's files (``None`` where there is no user); regions come from them."""


@dataclass(frozen=True, eq=False)
class ClassMask:
    """Mask pixels whose value in ``band`` (e.g. SCL) is one of ``classes`` or no data."""

    band: str
    classes: frozenset[int]

    def apply(self, cube: Cube) -> np.ndarray:
        """The boolean mask (t, 1, y, x) from ``cube``'s ``band``."""
        values = cube.data[:, cube.bands.index(self.band) : cube.bands.index(self.band) + 1]
        raw = np.ma.getdata(values)
        hit = np.isin(np.rint(raw).astype(np.int64), sorted(self.classes))
        return np.asarray(hit | np.ma.getmaskarray(values))


@dataclass(frozen=True, eq=False)
class CubeMask:
    """Mask pixels where ``cube`` is non-zero / true or has no data (one band or per band)."""

    cube: Cube

    def apply(self, target: Cube) -> np.ndarray:
        """The boolean mask aligned with ``target`` (t, bands or 1, y, x)."""
        return cube_mask(self.cube, target)


@dataclass(frozen=True, eq=False)
class PolygonMask:
    """Mask pixels whose centre lies outside (or, with ``inside``, inside) the polygons."""

    geometries: np.ndarray
    """shapely (Multi)Polygons, in ``crs``."""
    crs: CRS
    inside: bool = False

    def apply(self, cube: Cube) -> np.ndarray:
        """The boolean (y, x) mask on ``cube``'s grid (polygons reprojected to its CRS)."""
        geometries = self.geometries
        if cube.crs != self.crs:
            geometries = reproject(geometries, self.crs, cube.crs)
        hit = geometry_mask(list(geometries), out_shape=(cube.height, cube.width),
                            transform=cube.transform, invert=True)
        return np.asarray(hit if self.inside else ~hit)


ViewMask = ClassMask | CubeMask | PolygonMask


@dataclass(frozen=True, eq=False)
class CollectionView:
    """A collection narrowed by bbox, dates, bands and masks, not yet read.

    ``bbox`` is ``(bounds, crs)``; ``start``/``end`` are inclusive UTC datetimes
    (``None`` = open); ``bands`` are resolved band names (``None`` = all).
    """

    collection: CollectionLike
    bbox: tuple[Bounds, CRS] | None = None
    start: datetime | None = None
    end: datetime | None = None
    bands: tuple[str, ...] | None = None
    masks: tuple[ViewMask, ...] = ()

    @property
    def band_names(self) -> tuple[str, ...]:
        """The names of the bands this view selects, in order."""
        if self.bands is not None:
            return self.bands
        return tuple(b.name for b in self.collection.bands)

    def band(self, ref: str | int) -> str:
        """Resolve a band reference (name, id, common name) to a selected band name."""
        name = self.collection.band(ref).name
        if name not in self.band_names:
            raise BandNotFound(
                f"Band {ref!r} of collection {self.collection.id!r} is not selected "
                f"(selected: {', '.join(self.band_names)})"
            )
        return name

    def with_bbox(self, bounds: Bounds, crs: CRS) -> CollectionView:
        """Narrow to ``bounds`` (intersected with any earlier bbox, in the earlier CRS)."""
        if self.bbox is None:
            return replace(self, bbox=(bounds, crs))
        old, old_crs = self.bbox
        if crs != old_crs:
            bounds = transform_bounds(crs, old_crs, *bounds, densify_pts=21)
        new = (max(old[0], bounds[0]), max(old[1], bounds[1]),
               min(old[2], bounds[2]), min(old[3], bounds[3]))
        if new[0] >= new[2] or new[1] >= new[3]:
            raise OutOfBounds(f"Bounding boxes {old} and {tuple(bounds)} do not intersect")
        return replace(self, bbox=(new, old_crs))

    def with_dates(self, start: datetime | None, end: datetime | None) -> CollectionView:
        """Narrow to ``[start, end]`` (intersected with earlier dates)."""
        if self.start is not None and (start is None or start < self.start):
            start = self.start
        if self.end is not None and (end is None or end > self.end):
            end = self.end
        if start is not None and end is not None and start > end:
            raise OutOfBounds(f"Date ranges do not overlap (from {start} to {end})")
        return replace(self, start=start, end=end)

    def with_bands(self, names: Sequence[str]) -> CollectionView:
        """Select these (resolved) band names, in this order."""
        return replace(self, bands=tuple(names))

    def with_mask(self, mask: ViewMask) -> CollectionView:
        """Add a mask applied whenever the view is read."""
        return replace(self, masks=(*self.masks, mask))


@dataclass(frozen=True, eq=False)
class LabelledArray:
    """The values a reducer gets: axis 0 of ``data`` runs along the reduced dimension.

    ``labels`` names every position of the dimension. When only some positions were
    read (a reducer over bands that picks bands with ``array_element``), ``rows``
    maps a position to its row in ``data``. ``aliases`` maps other names of a label
    (band id, common name) to its position.
    """

    data: np.ma.MaskedArray
    labels: tuple[str, ...]
    rows: Mapping[int, int] | None = None
    aliases: Mapping[str, int] = field(default_factory=dict)

    def values(self) -> np.ma.MaskedArray:
        """All values, ``(n, ...)``."""
        if self.rows is not None:
            raise ArgumentInvalid("Only some elements of this array were read")
        return self.data

    def element(self, *, index: int | None = None, label: Any = None) -> np.ma.MaskedArray:
        """The values at a position or label (ArgumentInvalid when absent)."""
        if index is None:
            key = str(label)
            if key in self.labels:
                index = self.labels.index(key)
            elif key in self.aliases:
                index = self.aliases[key]
            else:
                raise ArgumentInvalid(
                    f"Label {label!r} not found; labels: {', '.join(self.labels)}"
                )
        if not 0 <= index < len(self.labels):
            raise ArgumentInvalid(f"Index {index} is out of range (size {len(self.labels)})")
        row = index if self.rows is None else self.rows.get(index)
        if row is None:
            raise ArgumentInvalid(f"Element {index} of this array was not read")
        return np.ma.MaskedArray(self.data[row])


def as_cube(value: Any, ctx: EvalContext, bands: Sequence[str] | None = None) -> Cube:
    """Turn a view (reading only ``bands``) or a cube (selecting ``bands``) into a cube.

    ``bands`` are resolved band names / cube labels; ``None`` = all of the value's bands.
    Masks recorded on a view are applied (and their extra bands dropped).
    """
    if isinstance(value, Cube):
        return value if bands is None else select_bands(value, bands)
    if not isinstance(value, CollectionView):
        raise ArgumentInvalid(f"Expected a raster cube, got {type(value).__name__} {value!r}")
    wanted = tuple(value.band_names if bands is None else bands)
    extra = tuple(dict.fromkeys(
        m.band for m in value.masks if isinstance(m, ClassMask) and m.band not in wanted
    ))
    cube = ctx.load(value, None if (bands is None and not extra) else (*wanted, *extra))
    if not value.masks:
        return cube
    mask = np.ma.getmaskarray(cube.data).copy()
    for m in value.masks:
        mask |= m.apply(cube)
    masked = cube.with_data(np.ma.MaskedArray(np.ma.getdata(cube.data), mask=mask))
    return select_bands(masked, wanted) if extra else masked


def select_bands(cube: Cube, names: Sequence[str]) -> Cube:
    """The cube restricted to these band labels, in this order (BandNotFound if absent)."""
    if tuple(names) == cube.bands:
        return cube
    missing = [n for n in names if n not in cube.bands]
    if missing:
        raise BandNotFound(f"Bands {missing} not in the cube (bands: {', '.join(cube.bands)})")
    idx = [cube.bands.index(n) for n in names]
    return cube.with_data(cube.data[:, idx], bands=tuple(names))


def cube_mask(mask: Cube, target: Cube) -> np.ndarray:
    """Where ``mask`` is non-zero or has no data, aligned to ``target``'s times and bands."""
    if mask.data.shape[2:] != target.data.shape[2:]:
        raise ArgumentInvalid(
            f"Mask grid {mask.data.shape[2:]} differs from data grid {target.data.shape[2:]}"
        )
    if mask.data.shape[1] not in (1, target.data.shape[1]):
        raise ArgumentInvalid(
            f"Mask has {len(mask.bands)} bands; it needs 1 or as many as the data "
            f"({len(target.bands)})"
        )
    hit = (np.ma.getdata(mask.data) != 0) | np.ma.getmaskarray(mask.data)
    if mask.times is None:
        return np.broadcast_to(hit, target.data.shape)
    if target.times is None:
        raise ArgumentInvalid("The mask has a time dimension but the data has none")
    missing = [t for t in target.times if t not in mask.times]
    if missing:
        raise ArgumentInvalid(
            f"Mask has no time step for {', '.join(t.isoformat() for t in missing)}"
        )
    rows = hit[[mask.times.index(t) for t in target.times]]
    return np.broadcast_to(rows, target.data.shape)
