"""The built-in demo catalog: synthetic but realistic Sentinel-2-like collections.

Two static STAC collections of single-band COGs are generated deterministically (fixed
seeds) into ``data_dir / "demo"`` on first use:

* ``S2_L2A_T32TPS_20M``: 20 m surface reflectance plus an SCL scene classification,
  EPSG:32632, three dates in January 2017 and then one a month until January 2018.
* ``Sentinel2-L1C`` (aliases ``Sentinel2A-L1C``, ``Sentinel-2A-L1C``): all 13 bands with
  the API draft's band ids, EPSG:32633, three dates in January 2017, stored at 60 m.

The landscape holds agricultural parcels with a seasonal NDVI cycle (crop-dependent
phase), grassland, forest, bare soil, towns, a river and lakes. Clouds brighten the
reflectance and are recorded in SCL (8/9 cloud, 10 thin cirrus) with their shadows
(3); some dates lack a diagonal strip along one side (nodata 0, SCL 0), as at the edge
of a satellite swath. Everything is defined in map coordinates, so a coarser
``downscale`` shows the same landscape with fewer pixels.
"""

from __future__ import annotations

import fcntl
import json
import math
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from affine import Affine
from rasterio.crs import CRS
from rasterio.io import MemoryFile
from rasterio.shutil import copy as rio_copy
from rasterio.warp import transform as warp_transform
from rasterio.warp import transform_bounds

GENERATOR_VERSION = 1
"""Bump when the output changes: existing demo directories are then regenerated."""

MARKER = "demo-version.json"
_BLOCK = 512

# Surface spectra (reflectance) of the mixing end-members, per Sentinel-2 band name.
_SOIL = {"B01": 0.09, "B02": 0.11, "B03": 0.15, "B04": 0.19, "B05": 0.21, "B06": 0.23,
         "B07": 0.245, "B08": 0.26, "B8A": 0.27, "B09": 0.20, "B10": 0.004, "B11": 0.33,
         "B12": 0.29}
_VEG = {"B01": 0.025, "B02": 0.035, "B03": 0.075, "B04": 0.03, "B05": 0.11, "B06": 0.29,
        "B07": 0.37, "B08": 0.41, "B8A": 0.43, "B09": 0.16, "B10": 0.002, "B11": 0.20,
        "B12": 0.09}
_WATER = {"B01": 0.07, "B02": 0.06, "B03": 0.045, "B04": 0.025, "B05": 0.018, "B06": 0.012,
          "B07": 0.009, "B08": 0.007, "B8A": 0.006, "B09": 0.003, "B10": 0.001, "B11": 0.003,
          "B12": 0.002}
_CLOUD = {"B01": 0.62, "B02": 0.60, "B03": 0.58, "B04": 0.57, "B05": 0.57, "B06": 0.56,
          "B07": 0.56, "B08": 0.55, "B8A": 0.55, "B09": 0.40, "B10": 0.15, "B11": 0.42,
          "B12": 0.33}
_PATH_RADIANCE = {"B01": 0.10, "B02": 0.075, "B03": 0.05, "B04": 0.035, "B05": 0.03,
                  "B06": 0.025, "B07": 0.022, "B08": 0.02, "B8A": 0.018, "B09": 0.01,
                  "B10": 0.002, "B11": 0.006, "B12": 0.003}

# Land-cover classes of parcels: (name, NDVI base, NDVI amplitude, peak day of year, width).
_COVERS: tuple[tuple[str, float, float, float, float], ...] = (
    ("winter_cereal", 0.30, 0.57, 140.0, 40.0),
    ("maize", 0.14, 0.74, 215.0, 32.0),
    ("soy", 0.15, 0.68, 200.0, 28.0),
    ("grassland", 0.45, 0.35, 150.0, 75.0),
    ("bare", 0.12, 0.03, 180.0, 90.0),
    ("urban", 0.08, 0.05, 180.0, 90.0),
    ("forest", 0.62, 0.24, 190.0, 60.0),
)
_COVER_P = (0.22, 0.20, 0.13, 0.16, 0.12, 0.05, 0.12)
_FOREST = 6
_WATER_CLASS = 7


@dataclass(frozen=True)
class _BandSpec:
    """One band of a demo collection."""

    name: str
    band_id: str
    common_name: str | None
    wavelength_um: float | None
    nominal_res: float | None


@dataclass(frozen=True)
class _Acquisition:
    """One date: cloud cover fraction and whether the swath edge cuts the scene."""

    when: datetime
    cloud: float
    swath_edge: bool


@dataclass(frozen=True)
class _CollectionSpec:
    """Everything that defines one demo collection."""

    id: str
    title: str
    description: str
    aliases: tuple[str, ...]
    epsg: int
    bounds: tuple[float, float, float, float]
    pixel: float
    bands: tuple[_BandSpec, ...]
    dates: tuple[_Acquisition, ...]
    scl: bool
    toa: bool
    seed: int
    parcel_scale: float = 1.0


def _acq(day: str, cloud: float, edge: bool = False, hour: int = 10) -> _Acquisition:
    """An acquisition at ``day`` (ISO date) ``hour``:05 UTC."""
    y, m, d = (int(v) for v in day.split("-"))
    return _Acquisition(datetime(y, m, d, hour, 5, tzinfo=UTC), cloud, edge)


_S2_L2A_BANDS = (
    _BandSpec("B02", "B02", "blue", 0.4924, 20.0),
    _BandSpec("B03", "B03", "green", 0.5598, 20.0),
    _BandSpec("B04", "B04", "red", 0.6646, 20.0),
    _BandSpec("B05", "B05", "rededge071", 0.7041, 20.0),
    _BandSpec("B06", "B06", "rededge075", 0.7405, 20.0),
    _BandSpec("B07", "B07", "rededge078", 0.7828, 20.0),
    _BandSpec("B8A", "B8A", "nir08", 0.8647, 20.0),
    _BandSpec("B11", "B11", "swir16", 1.6137, 20.0),
    _BandSpec("B12", "B12", "swir22", 2.2024, 20.0),
    _BandSpec("SCL", "SCL", None, None, 20.0),
)

# Band ids, common names, wavelengths and nominal resolutions of the API draft.
_S2_L1C_BANDS = (
    _BandSpec("B01", "1", None, 0.4439, 60.0),
    _BandSpec("B02", "2", "blue", 0.4966, 10.0),
    _BandSpec("B03", "3", "green", 0.560, 10.0),
    _BandSpec("B04", "4", "red", 0.6645, 10.0),
    _BandSpec("B05", "5", None, 0.7039, 20.0),
    _BandSpec("B06", "6", None, 0.7402, 20.0),
    _BandSpec("B07", "7", None, 0.7825, 20.0),
    _BandSpec("B08", "8", "nir", 0.8351, 10.0),
    _BandSpec("B8A", "8a", None, 0.8648, 20.0),
    _BandSpec("B09", "9", None, 0.945, 60.0),
    _BandSpec("B10", "10", None, 1.3735, 60.0),
    _BandSpec("B11", "11", None, 1.6137, 20.0),
    _BandSpec("B12", "12", None, 2.2024, 20.0),
)


def _l1c_bounds(pixel: float) -> tuple[float, float, float, float]:
    """UTM 33N bounds covering lon 16.1-16.6, lat 47.2-48.6, snapped outward to 1 km."""
    left, bottom, right, top = transform_bounds(
        "EPSG:4326", "EPSG:32633", 16.1, 47.2, 16.6, 48.6, densify_pts=21
    )
    step = 1000.0
    return (math.floor(left / step) * step, math.floor(bottom / step) * step,
            math.ceil(right / step) * step, math.ceil(top / step) * step)


def collection_specs(downscale: int = 1) -> tuple[_CollectionSpec, ...]:
    """The demo collections; pixel sizes are multiplied by ``downscale``."""
    if downscale < 1:
        raise ValueError(f"downscale must be a positive integer, got {downscale}")
    l2a_pixel = 20.0 * downscale
    l1c_pixel = 60.0 * downscale
    l2a = _CollectionSpec(
        id="S2_L2A_T32TPS_20M",
        title="Sentinel-2 L2A, tile 32TPS, 20 m (synthetic demo data)",
        description=(
            "SYNTHETIC demo data generated by ondemand, shaped like Sentinel-2 L2A surface "
            "reflectance (uint16, x10000, nodata 0) at 20 m over MGRS tile 32TPS: fields with "
            "a seasonal NDVI cycle, forest, water, bare soil, clouds and cloud shadows "
            "recorded in the SCL band. Not real observations."
        ),
        aliases=(),
        epsg=32632,
        bounds=(650000.0, 5159000.0, 674000.0, 5183000.0),
        pixel=l2a_pixel,
        bands=tuple(
            _BandSpec(b.name, b.band_id, b.common_name, b.wavelength_um, l2a_pixel)
            for b in _S2_L2A_BANDS
        ),
        dates=(
            _acq("2017-01-04", 0.05), _acq("2017-01-14", 0.35, True), _acq("2017-01-24", 0.0),
            _acq("2017-02-13", 0.20), _acq("2017-03-15", 0.10, True), _acq("2017-04-14", 0.45),
            _acq("2017-05-14", 0.05), _acq("2017-06-13", 0.15), _acq("2017-07-13", 0.0),
            _acq("2017-08-12", 0.10, True), _acq("2017-09-11", 0.25), _acq("2017-10-11", 0.05),
            _acq("2017-11-10", 0.60), _acq("2017-12-10", 0.30, True), _acq("2018-01-09", 0.10),
        ),
        scl=True,
        toa=False,
        seed=3201,
    )
    l1c = _CollectionSpec(
        id="Sentinel2-L1C",
        title="Sentinel-2 L1C (synthetic demo data)",
        description=(
            "SYNTHETIC demo data generated by ondemand, shaped like Sentinel-2 Level-1C "
            "top-of-atmosphere reflectance (uint16, x10000, nodata 0) over lon 16.1-16.6, "
            "lat 47.2-48.6 in January 2017. Band ids, names, wavelengths and res_m follow the "
            f"API draft (nominal 10/20/60 m), but every band is stored at {l1c_pixel:g} m "
            "pixels to keep the demo small. Not real observations."
        ),
        aliases=("Sentinel2A-L1C", "Sentinel-2A-L1C"),
        epsg=32633,
        bounds=_l1c_bounds(l1c_pixel),
        pixel=l1c_pixel,
        bands=_S2_L1C_BANDS,
        dates=(_acq("2017-01-06", 0.10), _acq("2017-01-16", 0.40, True),
               _acq("2017-01-26", 0.0)),
        scl=False,
        toa=True,
        seed=3302,
        parcel_scale=2.0,
    )
    return (l2a, l1c)


# --------------------------------------------------------------------------- caching


def ensure_demo_catalog(data_dir: Path, *, downscale: int = 1) -> list[Path]:
    """Return the demo's ``collection.json`` paths, generating them on first use.

    The catalog lives in ``data_dir / "demo"``. It is generated into a temporary sibling
    directory and renamed into place, under a file lock, so a crash never leaves a half
    catalog and concurrent processes generate it once. A version marker (generator
    version and ``downscale``) triggers regeneration when either changes.
    """
    data_dir = Path(data_dir)
    root = data_dir / "demo"
    marker = {"generator": GENERATOR_VERSION, "downscale": downscale}
    if _is_current(root, marker):
        return _collection_paths(root, downscale)
    data_dir.mkdir(parents=True, exist_ok=True)
    with _locked(data_dir / ".demo.lock"):
        if _is_current(root, marker):
            return _collection_paths(root, downscale)
        tmp = Path(tempfile.mkdtemp(prefix=".demo-tmp-", dir=data_dir))
        old: Path | None = None
        try:
            generate_demo(tmp, downscale=downscale)
            (tmp / MARKER).write_text(json.dumps(marker))
            if root.exists():
                old = data_dir / f".demo-old-{uuid.uuid4().hex}"
                root.rename(old)
            tmp.rename(root)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)
    return _collection_paths(root, downscale)


def _is_current(root: Path, marker: dict[str, int]) -> bool:
    """Whether ``root`` holds a complete demo made by this generator version."""
    try:
        found = json.loads((root / MARKER).read_text())
    except (OSError, ValueError):
        return False
    return bool(found == marker)


def _collection_paths(root: Path, downscale: int) -> list[Path]:
    """The collection.json paths inside a demo directory."""
    return [root / spec.id / "collection.json" for spec in collection_specs(downscale)]


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive advisory lock on ``path`` (blocks until free)."""
    with open(path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# --------------------------------------------------------------------------- generation


def generate_demo(target: Path, *, downscale: int = 1, threads: int | None = None) -> list[Path]:
    """Write all demo collections under ``target`` (no caching); return collection paths."""
    target = Path(target)
    workers = threads or max(2, os.cpu_count() or 2)
    paths = []
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for spec in collection_specs(downscale):
            paths.append(_generate_collection(target / spec.id, spec, pool))
    return paths


@dataclass(frozen=True)
class _Grid:
    """The pixel grid of a collection and the map coordinates of pixel centres."""

    width: int
    height: int
    transform: Affine
    x: np.ndarray  # (width,) centre eastings
    y: np.ndarray  # (height,) centre northings


def _grid(spec: _CollectionSpec) -> _Grid:
    """The grid of ``spec``: its bounds at its pixel size."""
    left, bottom, right, top = spec.bounds
    width = int(round((right - left) / spec.pixel))
    height = int(round((top - bottom) / spec.pixel))
    transform = Affine(spec.pixel, 0.0, left, 0.0, -spec.pixel, top)
    x = left + (np.arange(width) + 0.5) * spec.pixel
    y = top - (np.arange(height) + 0.5) * spec.pixel
    return _Grid(width, height, transform, x, y)


def _smooth_noise(
    rng: np.random.Generator, grid: _Grid, bounds: Sequence[float], scale: float
) -> np.ndarray:
    """A smooth random field (zero mean, unit-ish std) with features of ``scale`` metres.

    Random values on a coarse lattice in map coordinates are spread by Gaussian
    weights, so the field does not depend on the pixel size.
    """
    left, bottom, right, top = bounds
    nx = int(math.ceil((right - left) / scale)) + 3
    ny = int(math.ceil((top - bottom) / scale)) + 3
    lattice = rng.standard_normal((ny, nx))
    cx = left + (np.arange(nx) - 1) * scale
    cy = top - (np.arange(ny) - 1) * scale
    wx = np.exp(-0.5 * ((grid.x[:, None] - cx[None, :]) / (0.6 * scale)) ** 2)
    wy = np.exp(-0.5 * ((grid.y[:, None] - cy[None, :]) / (0.6 * scale)) ** 2)
    wx /= wx.sum(axis=1, keepdims=True)
    wy /= wy.sum(axis=1, keepdims=True)
    field = wy @ lattice @ wx.T
    result: np.ndarray = (field / max(float(field.std()), 1e-9)).astype(np.float32)
    return result


@dataclass(frozen=True)
class _Landscape:
    """Per-pixel land cover and the parcel attributes that drive the NDVI cycle."""

    cover: np.ndarray  # int8 class index (_COVERS, or _WATER_CLASS)
    peak_shift: np.ndarray  # days
    amp: np.ndarray  # NDVI amplitude factor
    soil: np.ndarray  # soil brightness factor
    texture: np.ndarray  # multiplicative reflectance texture


def _landscape(spec: _CollectionSpec, grid: _Grid) -> _Landscape:
    """Parcels on rotated blocks, forest patches, a river and lakes."""
    rng = np.random.default_rng(spec.seed)
    left, bottom, right, top = spec.bounds
    theta = 0.21
    xx = grid.x[None, :] - left
    yy = grid.y[:, None] - bottom
    u = xx * math.cos(theta) + yy * math.sin(theta)
    v = -xx * math.sin(theta) + yy * math.cos(theta)
    span = math.hypot(right - left, top - bottom) + 2000.0
    ps = spec.parcel_scale
    ubreaks = np.cumsum(rng.uniform(350.0 * ps, 900.0 * ps, int(span / 350.0 / ps) + 2)) - span / 2
    vbreaks = np.cumsum(rng.uniform(250.0 * ps, 650.0 * ps, int(span / 250.0 / ps) + 2)) - span / 2
    bu = np.clip(np.searchsorted(ubreaks, u), 1, len(ubreaks) - 1)
    bv = np.clip(np.searchsorted(vbreaks, v), 1, len(vbreaks) - 1)
    n_blocks = (len(ubreaks) + 1) * (len(vbreaks) + 1)
    strips = rng.integers(1, 5, n_blocks)
    block = bu * (len(vbreaks) + 1) + bv
    frac = (u - ubreaks[bu - 1]) / (ubreaks[bu] - ubreaks[bu - 1])
    strip = np.minimum((frac * strips[block]).astype(np.int64), 3)
    parcel = block * 4 + strip
    n_parcels = n_blocks * 4
    p_cover = rng.choice(len(_COVERS), size=n_parcels, p=_COVER_P).astype(np.int8)
    p_shift = rng.normal(0.0, 10.0, n_parcels).astype(np.float32)
    p_amp = rng.uniform(0.85, 1.08, n_parcels).astype(np.float32)
    p_soil = rng.uniform(0.75, 1.25, n_parcels).astype(np.float32)
    cover = p_cover[parcel]
    forest = _smooth_noise(rng, grid, spec.bounds, 2500.0) > 1.1
    cover[forest] = _FOREST
    lakes = _smooth_noise(rng, grid, spec.bounds, 1200.0) < -2.1
    # a meandering river running west-east through the middle third
    phase = rng.uniform(0, 2 * math.pi)
    centre = (bottom + top) / 2 + 0.12 * (top - bottom) * np.sin(
        2 * math.pi * grid.x / 9000.0 + phase
    ) + 600.0 * np.sin(2 * math.pi * grid.x / 2300.0)
    river = np.abs(grid.y[:, None] - centre[None, :]) < max(70.0, 0.6 * spec.pixel)
    cover[lakes | river] = _WATER_CLASS
    # gentle large-scale brightness variation in 1 % steps (smooth per-pixel texture
    # would make the DEFLATE-compressed demo several times larger)
    texture = np.round(100.0 * (1.0 + 0.02 * _smooth_noise(rng, grid, spec.bounds, 600.0)))
    return _Landscape(cover, p_shift[parcel], p_amp[parcel], p_soil[parcel],
                      (texture / 100.0).astype(np.float32))


def _ndvi(land: _Landscape, when: datetime) -> np.ndarray:
    """Target NDVI of every land pixel at ``when`` (water pixels are ignored later)."""
    doy = when.timetuple().tm_yday
    base = np.array([c[1] for c in _COVERS] + [0.0], dtype=np.float32)
    amp = np.array([c[2] for c in _COVERS] + [0.0], dtype=np.float32)
    peak = np.array([c[3] for c in _COVERS] + [180.0], dtype=np.float32)
    width = np.array([c[4] for c in _COVERS] + [50.0], dtype=np.float32)
    cover = land.cover
    delta = (doy - peak[cover] - land.peak_shift + 182.5) % 365.0 - 182.5
    ndvi = base[cover] + amp[cover] * land.amp * np.exp(-0.5 * (delta / width[cover]) ** 2)
    result: np.ndarray = np.clip(ndvi, 0.02, 0.92).astype(np.float32)
    return result


def _veg_fraction(ndvi: np.ndarray, soil: np.ndarray) -> np.ndarray:
    """Vegetation fraction giving ``ndvi`` exactly for a linear soil/vegetation mix.

    Solved on B04 (red) and B8A (nir08), the NDVI bands of both demo collections.
    """
    rs, ns = _SOIL["B04"] * soil, _SOIL["B8A"] * soil
    rv, nv = _VEG["B04"], _VEG["B8A"]
    dn, dr = nv - ns, rv - rs
    with np.errstate(divide="ignore", invalid="ignore"):
        f = (ns - rs - ndvi * (ns + rs)) / (ndvi * (dn + dr) - (dn - dr))
    result: np.ndarray = np.clip(np.nan_to_num(f, nan=0.0), 0.0, 1.0).astype(np.float32)
    return result


def _shift(a: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """``a`` moved by (dy, dx) pixels, zero-filled (no wrap-around)."""
    out = np.zeros_like(a)
    h, w = a.shape
    ys, yd = (slice(0, h - dy), slice(dy, h)) if dy >= 0 else (slice(-dy, h), slice(0, h + dy))
    xs, xd = (slice(0, w - dx), slice(dx, w)) if dx >= 0 else (slice(-dx, w), slice(0, w + dx))
    out[yd, xd] = a[ys, xs]
    return out


# Swath edge: pixels with EDGE_A * x/W + EDGE_B * y/H > EDGE_C (fractions from the
# top-left corner) lie outside the swath: a diagonal strip along the east side.
_EDGE_A, _EDGE_B, _EDGE_C = 1.0, 0.35, 1.05


@dataclass(frozen=True)
class _Scene:
    """Per-date quantities shared by all bands."""

    veg: np.ndarray
    tau: np.ndarray
    shadow: np.ndarray
    outside: np.ndarray
    scl: np.ndarray | None


def _scene(
    spec: _CollectionSpec, grid: _Grid, land: _Landscape, acq: _Acquisition, k: int
) -> _Scene:
    """Vegetation fraction, cloud optical thickness, shadows and swath mask of one date."""
    rng = np.random.default_rng([spec.seed, k])
    ndvi = _ndvi(land, acq.when)
    veg = _veg_fraction(ndvi, land.soil)
    tau = np.zeros((grid.height, grid.width), dtype=np.float32)
    if acq.cloud > 0:
        field = _smooth_noise(rng, grid, spec.bounds, 3000.0)
        field += 0.5 * _smooth_noise(rng, grid, spec.bounds, 900.0)
        field += 0.2 * _smooth_noise(rng, grid, spec.bounds, 250.0)
        threshold = float(np.quantile(field, 1.0 - acq.cloud))
        tau = np.clip((field - threshold) / 0.35, 0.0, 1.0).astype(np.float32)
    # shadows fall north-west of clouds (sun from the south-east in the morning)
    dy = int(round(1100.0 / spec.pixel))
    dx = int(round(-900.0 / spec.pixel))
    shadow = (_shift(tau, -dy, dx) >= 0.25) & (tau == 0)
    cols = (np.arange(grid.width) + 0.5) / grid.width
    rows = (np.arange(grid.height) + 0.5) / grid.height
    if acq.swath_edge:
        outside = _EDGE_A * cols[None, :] + _EDGE_B * rows[:, None] > _EDGE_C
    else:
        outside = np.zeros((grid.height, grid.width), dtype=bool)
    scl: np.ndarray | None = None
    if spec.scl:
        scl = np.where(ndvi >= 0.35, 4, 5).astype(np.uint8)
        scl[land.cover == _WATER_CLASS] = 6
        scl[shadow] = 3
        scl[(tau > 0) & (tau < 0.25)] = 10
        scl[(tau >= 0.25) & (tau < 0.6)] = 8
        scl[tau >= 0.6] = 9
        scl[outside] = 0
    return _Scene(veg, tau, shadow, outside, scl)


def _reflectance(band: str, land: _Landscape, scene: _Scene, toa: bool) -> np.ndarray:
    """Reflectance x10000 (uint16, 0 outside the swath) of one band on one date."""
    surface = (_SOIL[band] * land.soil * (1.0 - scene.veg) + _VEG[band] * scene.veg)
    surface = surface * land.texture
    water = land.cover == _WATER_CLASS
    surface[water] = (_WATER[band] * land.texture[water]).astype(np.float32)
    surface = np.where(scene.shadow, surface * 0.3, surface)
    if toa:
        surface = surface + _PATH_RADIANCE[band]
    refl = surface * (1.0 - scene.tau) + _CLOUD[band] * scene.tau
    dn: np.ndarray = np.clip(np.rint(refl * 10000.0), 1, 65535).astype(np.uint16)
    dn[scene.outside] = 0
    return dn


def _write_cog(path: Path, array: np.ndarray, crs: CRS, transform: Affine) -> None:
    """Write one single-band COG (512 tiles, DEFLATE, overviews, nodata 0)."""
    height, width = array.shape
    profile: dict[str, Any] = {
        "driver": "GTiff", "count": 1, "height": height, "width": width,
        "dtype": array.dtype.name, "crs": crs, "transform": transform, "nodata": 0,
    }
    with MemoryFile() as memfile:
        with memfile.open(**profile) as tmp:
            tmp.write(array, 1)
            rio_copy(
                tmp, str(path), driver="COG", BLOCKSIZE=_BLOCK, COMPRESS="DEFLATE",
                PREDICTOR="2", LEVEL="6", OVERVIEWS="AUTO", OVERVIEW_RESAMPLING="NEAREST",
            )


def _generate_collection(out: Path, spec: _CollectionSpec, pool: ThreadPoolExecutor) -> Path:
    """Write one collection (COGs, items, collection.json); return collection.json."""
    grid = _grid(spec)
    crs = CRS.from_epsg(spec.epsg)
    land = _landscape(spec, grid)
    out.mkdir(parents=True, exist_ok=True)

    def one_date(k: int, acq: _Acquisition) -> dict[str, Any]:
        item_id = f"{spec.id}_{acq.when:%Y%m%d}"
        item_dir = out / item_id
        item_dir.mkdir(parents=True, exist_ok=True)
        scene = _scene(spec, grid, land, acq, k)
        for band in spec.bands:
            if band.name == "SCL":
                assert scene.scl is not None
                array = scene.scl
            else:
                array = _reflectance(band.name, land, scene, spec.toa)
            _write_cog(item_dir / f"{band.name}.tif", array, crs, grid.transform)
        item = _item_json(spec, grid, acq, item_id)
        (item_dir / f"{item_id}.json").write_text(json.dumps(item, indent=1))
        return item

    items = list(pool.map(lambda ka: one_date(*ka), enumerate(spec.dates)))
    collection = _collection_json(spec, items)
    path = out / "collection.json"
    path.write_text(json.dumps(collection, indent=1))
    return path


def _footprint(spec: _CollectionSpec, grid: _Grid, acq: _Acquisition) -> list[list[float]]:
    """The valid-data polygon in WGS84: the grid, minus the swath-edge strip if cut."""
    left, bottom, right, top = spec.bounds
    ring = [(left, top), (right, top), (right, bottom), (left, bottom)]
    if acq.swath_edge:
        w, h = right - left, top - bottom

        def value(p: tuple[float, float]) -> float:
            return _EDGE_A * (p[0] - left) / w + _EDGE_B * (top - p[1]) / h - _EDGE_C

        clipped: list[tuple[float, float]] = []
        for i, p in enumerate(ring):
            q = ring[(i + 1) % len(ring)]
            vp, vq = value(p), value(q)
            if vp <= 0:
                clipped.append(p)
            if (vp <= 0) != (vq <= 0):
                t = vp / (vp - vq)
                clipped.append((p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1])))
        ring = clipped
    xs: list[float] = []
    ys: list[float] = []
    for i, p in enumerate(ring):
        q = ring[(i + 1) % len(ring)]
        for t in np.linspace(0.0, 1.0, 10, endpoint=False):
            xs.append(p[0] + t * (q[0] - p[0]))
            ys.append(p[1] + t * (q[1] - p[1]))
    lon, lat = warp_transform(CRS.from_epsg(spec.epsg), "EPSG:4326", xs, ys)
    coords = [[round(a, 8), round(b, 8)] for a, b in zip(lon, lat, strict=True)]
    coords = coords[::-1]  # counter-clockwise exterior (RFC 7946)
    return coords + [coords[0]]


def _item_json(
    spec: _CollectionSpec, grid: _Grid, acq: _Acquisition, item_id: str
) -> dict[str, Any]:
    """The STAC item of one date."""
    ring = _footprint(spec, grid, acq)
    lons = [p[0] for p in ring]
    lats = [p[1] for p in ring]
    assets: dict[str, Any] = {}
    for band in spec.bands:
        assets[band.name] = {
            "href": f"./{band.name}.tif",
            "type": "image/tiff; application=geotiff; profile=cloud-optimized",
            "roles": ["data"],
            "eo:bands": [_eo_band(band)],
            "proj:shape": [grid.height, grid.width],
            "proj:transform": list(grid.transform)[:6],
            "raster:bands": [_raster_band(spec, band)],
        }
    return {
        "type": "Feature",
        "stac_version": "1.0.0",
        "stac_extensions": _EXTENSIONS,
        "id": item_id,
        "collection": spec.id,
        "bbox": [min(lons), min(lats), max(lons), max(lats)],
        "geometry": {"type": "Polygon", "coordinates": [ring]},
        "properties": {
            "datetime": acq.when.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "platform": "sentinel-2a",
            "constellation": "sentinel-2",
            "proj:epsg": spec.epsg,
            "eo:cloud_cover": round(100.0 * acq.cloud, 1),
        },
        "assets": assets,
        "links": [
            {"rel": "collection", "href": "../collection.json", "type": "application/json"},
            {"rel": "parent", "href": "../collection.json", "type": "application/json"},
            {"rel": "root", "href": "../collection.json", "type": "application/json"},
        ],
    }


_EXTENSIONS = [
    "https://stac-extensions.github.io/eo/v1.1.0/schema.json",
    "https://stac-extensions.github.io/projection/v1.1.0/schema.json",
    "https://stac-extensions.github.io/raster/v1.1.0/schema.json",
]


def _eo_band(band: _BandSpec) -> dict[str, Any]:
    """The eo:bands entry of a band (with the draft's band id)."""
    entry: dict[str, Any] = {"name": band.name, "ondemand:band_id": band.band_id}
    if band.common_name:
        entry["common_name"] = band.common_name
    if band.wavelength_um is not None:
        entry["center_wavelength"] = band.wavelength_um
    if band.name == "SCL":
        entry["description"] = (
            "Scene classification: 0 no data, 3 cloud shadow, 4 vegetation, 5 bare soil, "
            "6 water, 8 cloud medium probability, 9 cloud high probability, 10 thin cirrus"
        )
    return entry


def _raster_band(spec: _CollectionSpec, band: _BandSpec) -> dict[str, Any]:
    """The raster:bands entry of a band (actual pixel size as spatial_resolution)."""
    if band.name == "SCL":
        return {"data_type": "uint8", "nodata": 0, "spatial_resolution": spec.pixel}
    return {"data_type": "uint16", "nodata": 0, "scale": 0.0001, "offset": 0,
            "spatial_resolution": spec.pixel, "unit": "1"}


def _collection_json(spec: _CollectionSpec, items: list[dict[str, Any]]) -> dict[str, Any]:
    """The STAC collection with summaries, item_assets (nominal gsd) and item links."""
    bboxes = [it["bbox"] for it in items]
    dates = [it["properties"]["datetime"] for it in items]
    item_assets = {
        band.name: {
            "type": "image/tiff; application=geotiff; profile=cloud-optimized",
            "roles": ["data"],
            "gsd": band.nominal_res,
            "eo:bands": [_eo_band(band)],
            "raster:bands": [_raster_band(spec, band)],
        }
        for band in spec.bands
    }
    return {
        "type": "Collection",
        "stac_version": "1.0.0",
        "stac_extensions": _EXTENSIONS
        + ["https://stac-extensions.github.io/item-assets/v1.0.0/schema.json"],
        "id": spec.id,
        "title": spec.title,
        "description": spec.description,
        "license": "CC0-1.0",
        "providers": [{"name": "ondemand demo generator (synthetic)", "roles": ["producer"]}],
        "keywords": ["synthetic", "demo", "sentinel-2"],
        "ondemand:aliases": list(spec.aliases),
        "ondemand:pixel_size_m": spec.pixel,
        "ondemand:synthetic": True,
        "extent": {
            "spatial": {"bbox": [[min(b[0] for b in bboxes), min(b[1] for b in bboxes),
                                  max(b[2] for b in bboxes), max(b[3] for b in bboxes)]]},
            "temporal": {"interval": [[min(dates), max(dates)]]},
        },
        "summaries": {
            "eo:bands": [_eo_band(b) for b in spec.bands],
            "platform": ["sentinel-2a"],
            "gsd": sorted({b.nominal_res for b in spec.bands if b.nominal_res}),
        },
        "item_assets": item_assets,
        "links": [
            {"rel": "item", "href": f"./{it['id']}/{it['id']}.json", "type": "application/json"}
            for it in items
        ],
    }
