"""Regions for zonal statistics: polygons with attributes, read from user files or inline GeoJSON.

``regions`` is a path in the caller's files (``/users/me/files/fields.geojson``,
``/files/me/fields.gpkg``, or relative: ``fields.zip``), a folder (``/users/me/files/``:
every polygon file directly in it, in name order) or an inline GeoJSON object
(FeatureCollection, Feature or geometry). Readable files: GeoJSON (``.geojson`` /
``.json``; RFC 7946 WGS84, or the legacy ``crs`` member), GeoPackage (``.gpkg``, first
layer) and zipped Shapefiles (``.zip`` holding one ``.shp`` with its ``.shx``, ``.dbf``
and ``.prj``). Every geometry must be a Polygon or MultiPolygon.
"""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
import pyogrio
import shapely
import shapely.errors
import shapely.geometry
from rasterio.crs import CRS

from ...errors import ArgumentInvalid, FileContentInvalid, ResourceNotFound
from ...geometry import WGS84, check_in_crs_area, reproject
from ...graph import thaw
from ...text import without_paths
from ...userfiles import FileStore
from ...window import parse_crs

MAX_FEATURES = 100_000
"""Most regions one request may hold."""
POLYGON_SUFFIXES = (".geojson", ".json", ".gpkg", ".zip")
_PREFIX = re.compile(r"^/?(?:users?/([^/]+)/files|files/([^/]+))(?:/(.*))?$")
_POLYGONAL = ("Polygon", "MultiPolygon")


@dataclass(frozen=True, eq=False)
class Regions:
    """Polygons in one CRS, each with its source, its index there and its attributes."""

    geometries: np.ndarray
    """shapely (Multi)Polygons, one per region."""
    crs: CRS
    sources: tuple[str, ...]
    """Per region: the file it comes from (relative to the user's folder) or ``inline``."""
    features: tuple[int, ...]
    """Per region: its 0-based position in its source."""
    attributes: Mapping[str, list[Any]] = field(default_factory=dict)
    """Attribute columns (None where a source lacks the column)."""

    def __len__(self) -> int:
        return len(self.geometries)

    def to_crs(self, crs: CRS) -> Regions:
        """The same regions with their vertices reprojected to ``crs``."""
        if crs == self.crs:
            return self
        return Regions(
            reproject(self.geometries, self.crs, crs),
            crs,
            self.sources,
            self.features,
            self.attributes,
        )


def load_regions(value: Any, files: FileStore | None) -> Regions:
    """Read the ``regions`` argument: a user-file path, a folder, or inline GeoJSON."""
    if isinstance(value, Mapping):
        return _from_geojson(thaw(value), "inline")
    if not isinstance(value, str) or not value.strip():
        raise ArgumentInvalid(
            f"regions: expected a file path such as '/users/me/files/fields.geojson' or a "
            f"GeoJSON object, got {value!r}"
        )
    if files is None:
        raise ArgumentInvalid(
            "regions: user files are not available here; give the polygons as inline GeoJSON"
        )
    relative = user_path(value.strip(), files)
    try:
        if relative.rstrip("/") == "" or relative.endswith("/") or files.is_folder(relative):
            return _from_folder(files, relative.rstrip("/"))
        with files.local_copy(relative) as path:
            return read_polygon_file(path, relative)
    except ResourceNotFound:
        raise ResourceNotFound(upload_hint(relative, files)) from None


def upload_hint(relative: str, files: FileStore) -> str:
    """The not-found message: where regions were looked up and how to put some there."""
    user, path = files.user, relative.lstrip("/")
    folder = path == "" or path.endswith("/")
    what = "no polygon file in the folder" if folder else "no such file"
    target = f"{path}<name>.geojson" if folder else path
    return (
        f"regions: {what} /users/{user}/files/{path}; upload polygons first "
        f"with PUT /users/{user}/files/{target} (GeoJSON, GeoPackage or zipped Shapefile) "
        "or give them inline as GeoJSON; see docs/zonal-statistics.md"
    )


def user_path(text: str, files: FileStore) -> str:
    """The path inside the caller's folder named by ``/users/{id}/files/...`` or relative text."""
    match = _PREFIX.match(text)
    if match is None:
        if text.startswith("/"):
            raise ArgumentInvalid(
                f"regions: {text!r} is not a user-file path; write /users/me/files/<path>"
            )
        return text
    user = match.group(1) or match.group(2)
    if user not in ("me", files.user):
        raise ResourceNotFound(f"regions: {text!r} names another user's files")
    return match.group(3) or ""


def _from_folder(files: FileStore, folder: str) -> Regions:
    """Every polygon file directly in ``folder``, in name order (others are skipped)."""
    parts: list[Regions] = []
    for name in files.folder_files(folder):
        if PurePosixPath(name).suffix.lower() not in POLYGON_SUFFIXES:
            continue
        try:
            with files.local_copy(name) as path:
                parts.append(read_polygon_file(path, name))
        except FileContentInvalid:
            continue
    if not parts:
        raise ResourceNotFound(
            f"No polygon file (GeoJSON, GeoPackage, zipped Shapefile) in folder "
            f"{(folder + '/') if folder else '/'}"
        )
    return concat(parts)


def concat(parts: Sequence[Regions]) -> Regions:
    """Regions of several sources in one CRS (the first one's); attribute columns unioned."""
    crs = parts[0].crs
    moved = [p.to_crs(crs) for p in parts]
    names = list(dict.fromkeys(name for p in moved for name in p.attributes))
    attributes = {
        name: [v for p in moved for v in p.attributes.get(name, [None] * len(p))] for name in names
    }
    return Regions(
        np.concatenate([p.geometries for p in moved]),
        crs,
        tuple(s for p in moved for s in p.sources),
        tuple(f for p in moved for f in p.features),
        attributes,
    )


def read_polygon_file(path: Path, name: str) -> Regions:
    """Read one GeoJSON, GeoPackage or zipped Shapefile (FileContentInvalid when it is not)."""
    suffix = path.suffix.lower()
    with path.open("rb") as handle:
        head = handle.read(16)
    if suffix in (".geojson", ".json"):
        try:
            doc = json.loads(path.read_bytes())
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
            raise FileContentInvalid(f"{name} is not valid GeoJSON: {exc}") from None
        return _from_geojson(doc, name)
    if suffix == ".gpkg":
        if not head.startswith(b"SQLite format 3\x00"):
            raise FileContentInvalid(f"{name} is not a GeoPackage")
        return _from_ogr(str(path), name)
    if suffix == ".zip":
        return _from_ogr(_shapefile_in_zip(path, name), name)
    raise FileContentInvalid(
        f"{name}: polygon files are .geojson/.json, .gpkg or a zipped Shapefile (.zip)"
    )


def _shapefile_in_zip(path: Path, name: str) -> str:
    """The GDAL path of the one Shapefile in a zip (FileContentInvalid otherwise)."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.namelist()
    except (zipfile.BadZipFile, OSError):
        raise FileContentInvalid(f"{name} is not a zip file") from None
    shps = [m for m in members if m.lower().endswith(".shp") and not m.startswith("__MACOSX")]
    if len(shps) != 1:
        raise FileContentInvalid(
            f"{name} must hold exactly one Shapefile (.shp with .shx, .dbf, .prj); "
            f"found {len(shps)}"
        )
    shp = shps[0]
    if ".." in shp.split("/") or shp.startswith("/"):
        raise FileContentInvalid(f"{name}: member {shp!r} has an unsafe path")
    stem = shp[:-4].lower()
    if f"{stem}.shx" not in {m.lower() for m in members}:
        raise FileContentInvalid(f"{name}: {shp} has no .shx beside it")
    return f"/vsizip/{path}/{shp}"


def _from_ogr(source: str, name: str) -> Regions:
    """Read the first layer of a GeoPackage or Shapefile with pyogrio."""
    try:
        meta, _, wkb, fields = pyogrio.raw.read(source, max_features=MAX_FEATURES + 1)
    except Exception as exc:  # pyogrio raises DataSourceError, DataLayerError, ...
        detail = without_paths(str(exc), source)
        raise FileContentInvalid(f"{name} cannot be read: {detail}") from None
    if meta.get("crs") is None:
        raise FileContentInvalid(f"{name} has no coordinate reference system (.prj)")
    geometries = np.asarray(shapely.from_wkb(wkb))
    attributes = {
        str(column): [_scalar(v) for v in values]
        for column, values in zip(meta["fields"], fields, strict=True)
    }
    return _checked(geometries, parse_crs(meta["crs"]), name, attributes)


def _scalar(value: Any) -> Any:
    """A numpy scalar as a plain Python value (NaN/NaT as None)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    return value


def _from_geojson(doc: Any, name: str) -> Regions:
    """Regions from a GeoJSON FeatureCollection, Feature or bare geometry."""
    if not isinstance(doc, Mapping) or "type" not in doc:
        raise FileContentInvalid(f"{name}: expected a GeoJSON object with a 'type'")
    kind = doc["type"]
    if kind == "FeatureCollection":
        features = doc.get("features")
        if not isinstance(features, list):
            raise FileContentInvalid(f"{name}: a FeatureCollection needs a 'features' list")
    elif kind == "Feature":
        features = [doc]
    else:
        features = [{"type": "Feature", "geometry": doc, "properties": {}}]
    if len(features) > MAX_FEATURES:
        raise FileContentInvalid(f"{name} has more than {MAX_FEATURES:,} features")
    geometries = []
    props: list[Mapping[str, Any]] = []
    for i, feature in enumerate(features):
        if not isinstance(feature, Mapping) or not isinstance(feature.get("geometry"), Mapping):
            raise FileContentInvalid(f"{name}: feature {i} has no geometry")
        try:
            geometries.append(shapely.geometry.shape(feature["geometry"]))
        except (
            ValueError,
            TypeError,
            KeyError,
            AttributeError,
            shapely.errors.GEOSException,
        ) as exc:
            raise FileContentInvalid(
                f"{name}: feature {i} has an invalid geometry: {exc}"
            ) from None
        properties = feature.get("properties") or {}
        props.append(properties if isinstance(properties, Mapping) else {})
    names = list(dict.fromkeys(k for p in props for k in p))
    attributes = {str(k): [_json_scalar(p.get(k)) for p in props] for k in names}
    return _checked(np.asarray(geometries, dtype=object), _geojson_crs(doc, name), name, attributes)


def _json_scalar(value: Any) -> Any:
    """Attribute values are scalars; nested JSON is kept as its text."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return json.dumps(value)


def _geojson_crs(doc: Mapping[str, Any], name: str) -> CRS:
    """RFC 7946 GeoJSON is WGS84; the legacy ``crs`` member names another CRS."""
    crs = doc.get("crs")
    if crs is None:
        return WGS84
    try:
        text = crs["properties"]["name"]
    except (TypeError, KeyError):
        raise FileContentInvalid(f"{name}: the 'crs' member is not understood") from None
    if "CRS84" in str(text):
        return WGS84
    return parse_crs(str(text))


def _checked(
    geometries: np.ndarray, crs: CRS, name: str, attributes: Mapping[str, list[Any]]
) -> Regions:
    """Regions of one source, after checking every geometry is a (Multi)Polygon."""
    if len(geometries) == 0:
        raise FileContentInvalid(f"{name} holds no features")
    if len(geometries) > MAX_FEATURES:
        raise FileContentInvalid(f"{name} has more than {MAX_FEATURES:,} features")
    for i, geometry in enumerate(geometries):
        if geometry is None or geometry.geom_type not in _POLYGONAL:
            kind = "no geometry" if geometry is None else geometry.geom_type
            raise FileContentInvalid(
                f"{name}: feature {i} is {kind}; regions must be Polygons or MultiPolygons"
            )
    check_in_crs_area(geometries, crs, name)
    return Regions(
        geometries, crs, (name,) * len(geometries), tuple(range(len(geometries))), dict(attributes)
    )
