"""The synthetic landscape and each date's scene: land cover, NDVI, clouds, reflectance.

Everything is defined in map coordinates, so a coarser pixel size shows the same
landscape with fewer pixels.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from affine import Affine

from .specs import Acquisition, CollectionSpec

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
COVERS: tuple[tuple[str, float, float, float, float], ...] = (
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
class Grid:
    """The pixel grid of a collection and the map coordinates of pixel centres."""

    width: int
    height: int
    transform: Affine
    x: np.ndarray  # (width,) centre eastings
    y: np.ndarray  # (height,) centre northings


def pixel_grid(spec: CollectionSpec) -> Grid:
    """The grid of ``spec``: its bounds at its pixel size."""
    left, bottom, right, top = spec.bounds
    width = int(round((right - left) / spec.pixel))
    height = int(round((top - bottom) / spec.pixel))
    transform = Affine(spec.pixel, 0.0, left, 0.0, -spec.pixel, top)
    x = left + (np.arange(width) + 0.5) * spec.pixel
    y = top - (np.arange(height) + 0.5) * spec.pixel
    return Grid(width, height, transform, x, y)


def _smooth_noise(
    rng: np.random.Generator, grid: Grid, bounds: Sequence[float], scale: float
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
class Landscape:
    """Per-pixel land cover and the parcel attributes that drive the NDVI cycle."""

    cover: np.ndarray  # int8 class index (COVERS, or _WATER_CLASS)
    peak_shift: np.ndarray  # days
    amp: np.ndarray  # NDVI amplitude factor
    soil: np.ndarray  # soil brightness factor
    texture: np.ndarray  # multiplicative reflectance texture


def landscape(spec: CollectionSpec, grid: Grid) -> Landscape:
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
    p_cover = rng.choice(len(COVERS), size=n_parcels, p=_COVER_P).astype(np.int8)
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
    return Landscape(cover, p_shift[parcel], p_amp[parcel], p_soil[parcel],
                      (texture / 100.0).astype(np.float32))


def _ndvi(land: Landscape, when: datetime) -> np.ndarray:
    """Target NDVI of every land pixel at ``when`` (water pixels are ignored later)."""
    doy = when.timetuple().tm_yday
    base = np.array([c[1] for c in COVERS] + [0.0], dtype=np.float32)
    amp = np.array([c[2] for c in COVERS] + [0.0], dtype=np.float32)
    peak = np.array([c[3] for c in COVERS] + [180.0], dtype=np.float32)
    width = np.array([c[4] for c in COVERS] + [50.0], dtype=np.float32)
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
EDGE_A, EDGE_B, EDGE_C = 1.0, 0.35, 1.05


@dataclass(frozen=True)
class Scene:
    """Per-date quantities shared by all bands."""

    veg: np.ndarray
    tau: np.ndarray
    shadow: np.ndarray
    outside: np.ndarray
    scl: np.ndarray | None


def day_scene(
    spec: CollectionSpec, grid: Grid, land: Landscape, acq: Acquisition, k: int
) -> Scene:
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
        outside = EDGE_A * cols[None, :] + EDGE_B * rows[:, None] > EDGE_C
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
    return Scene(veg, tau, shadow, outside, scl)


def reflectance(band: str, land: Landscape, scene: Scene, toa: bool) -> np.ndarray:
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
