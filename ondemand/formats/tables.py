"""Encode table results (zonal statistics): GeoPackage, GeoJSON, CSV and JSON.

- **GPKG**: one layer ``zonal_statistics`` with the region geometry (MultiPolygon, in
  the regions' CRS) on every row, written with pyogrio; ``date`` is a DateTime field
  in UTC, stored as the standard requires (``2017-01-06T10:05:00.000Z``); null
  statistics are NULL. GeoPackage 1.3, which every GDAL since 2.2 reads warning-free.
- **GeoJSON**: a FeatureCollection in WGS84 (RFC 7946), one Feature per row.
- **CSV**: a header row and one line per row, without geometry; dates as ISO 8601,
  nulls as empty cells.
- **JSON**: ``{"columns": [...], "rows": [[...], ...]}`` without geometry.
"""

from __future__ import annotations

import csv
import io
import json
import math
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pyogrio.raw
import shapely

from ..errors import OutputFormatUnsupported
from ..geometry import WGS84, reproject
from ..table import Table
from .encode import Encoded
from .options import TABLE_FORMATS, OutputSpec

LAYER = "zonal_statistics"
MEDIA_TYPES = {
    "GPKG": "application/geopackage+sqlite3",
    "GeoJSON": "application/geo+json",
    "CSV": "text/csv; charset=utf-8",
    "JSON": "application/json",
}
GDAL_UTC = 100
"""GDAL's time zone flag for UTC: DATETIME values are written ``YYYY-MM-DDTHH:MM:SS.SSSZ``."""
GPKG_VERSION = "1.3"
"""GeoPackage version written: read without warnings by GDAL 2.2 and later (1.4 needs 3.7)."""
EXTENSIONS = {"GPKG": "gpkg", "GeoJSON": "geojson", "CSV": "csv", "JSON": "json"}


def encode_table(table: Table, spec: OutputSpec, *, stem: str = "result") -> Encoded:
    """Encode ``table`` in ``spec.format`` (one of :data:`TABLE_FORMATS`)."""
    fmt = str(spec.format)
    if fmt not in TABLE_FORMATS:
        raise OutputFormatUnsupported(
            f"Output format {fmt} cannot hold a table; use one of {', '.join(TABLE_FORMATS)}"
        )
    writer = {"GPKG": write_gpkg, "GeoJSON": write_geojson, "CSV": write_csv,
              "JSON": write_json}[fmt]
    return Encoded(writer(table), MEDIA_TYPES[fmt], f"{stem}.{EXTENSIONS[fmt]}")


def write_gpkg(table: Table) -> bytes:
    """The table as a GeoPackage (one layer, region geometry per row)."""
    fields, data, masks = [], [], []
    for name, values in table.columns.items():
        array, mask = column_array(values)
        fields.append(name)
        data.append(array)
        masks.append(mask)
    geometry = None
    crs = None
    if table.geometries is not None:
        geometry = np.asarray(shapely.to_wkb(table.geometries), dtype=object)
        crs = None if table.crs is None else table.crs.to_wkt()
    utc = {name: np.full(len(array), GDAL_UTC, np.int32)
           for name, array in zip(fields, data, strict=True) if array.dtype.kind == "M"}
    buffer = io.BytesIO()
    pyogrio.raw.write(
        buffer, geometry, data, fields, field_mask=masks, layer=LAYER, driver="GPKG",
        geometry_type="MultiPolygon" if geometry is not None else None, crs=crs,
        promote_to_multi=True, gdal_tz_offsets=utc,
        dataset_options={"VERSION": GPKG_VERSION},
        layer_options={"DATETIME_PRECISION": "MILLISECOND"},
    )
    return buffer.getvalue()


def column_array(values: list[Any]) -> tuple[np.ndarray, np.ndarray | None]:
    """A typed numpy column for OGR (int64, float64, bool, datetime64 or str) and its nulls."""
    present = [v for v in values if v is not None]
    mask = np.array([v is None for v in values], dtype=bool)
    nulls = mask if mask.any() else None
    if present and all(isinstance(v, datetime) for v in present):
        stamps = [_utc_naive(v) if v is not None else datetime(1970, 1, 1) for v in values]
        return np.array(stamps, dtype="datetime64[ms]"), nulls
    if present and all(isinstance(v, bool) for v in present):
        return np.array([bool(v) for v in values], dtype=bool), nulls
    if present and all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        return np.array([0 if v is None else v for v in values], dtype=np.int64), nulls
    if present and all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        floats = np.array([math.nan if v is None else float(v) for v in values])
        return floats, mask | np.isnan(floats) if (mask.any() or np.isnan(floats).any()) else None
    texts = np.array([None if v is None else str(v) for v in values], dtype=object)
    return texts, nulls


def _utc_naive(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value


def json_value(value: Any) -> Any:
    """A JSON value: datetimes as ISO 8601 UTC (``Z``), non-finite numbers as null."""
    if isinstance(value, datetime):
        return _utc_naive(value).isoformat() + "Z"
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, np.generic):
        return json_value(value.item())
    return value


def write_geojson(table: Table) -> bytes:
    """The table as a WGS84 GeoJSON FeatureCollection, one Feature per row."""
    geometries = table.geometries
    if geometries is not None and table.crs is not None and table.crs != WGS84:
        geometries = reproject(geometries, table.crs, WGS84)
    features = []
    for i, record in enumerate(table.records()):
        geometry = None if geometries is None else json.loads(shapely.to_geojson(geometries[i]))
        features.append({"type": "Feature", "geometry": geometry,
                         "properties": {k: json_value(v) for k, v in record.items()}})
    doc = {"type": "FeatureCollection", "features": features}
    return json.dumps(doc, separators=(",", ":"), allow_nan=False).encode()


def write_csv(table: Table) -> bytes:
    """The table as CSV (header row, no geometry, empty cells for nulls)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(list(table.columns))
    for row in zip(*table.columns.values(), strict=True):
        writer.writerow(["" if (v := json_value(x)) is None else v for x in row])
    return out.getvalue().encode()


def write_json(table: Table) -> bytes:
    """The table as ``{"columns": [...], "rows": [[...], ...]}`` (no geometry)."""
    rows = [[json_value(v) for v in row] for row in zip(*table.columns.values(), strict=True)]
    doc = {"columns": list(table.columns), "rows": rows}
    return json.dumps(doc, separators=(",", ":"), allow_nan=False).encode()
