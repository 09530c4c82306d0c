"""GeoPackages the server writes open in GDAL without a warning; DATETIME values conform."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import shapely
from rasterio.crs import CRS

from ondemand.formats.tables import LAYER, write_gpkg
from ondemand.table import Table
from tests.support.gdal import ogrinfo_strict


def table() -> Table:
    return Table(
        columns={
            "source": ["a.geojson", "a.geojson", "inline"],
            "feature": [0, 0, 1],
            "date": [datetime(2017, 1, 6, 10, 5, tzinfo=UTC),
                     datetime(2017, 1, 16, 10, 5, 30, 250000, tzinfo=UTC), None],
            "B08_mean": [0.25, None, 0.5],
        },
        geometries=np.array([shapely.box(0, 0, 1, 1), shapely.box(0, 0, 1, 1),
                             shapely.box(2, 2, 3, 3)]),
        crs=CRS.from_epsg(4326),
    )


def test_gpkg_opens_in_gdal_without_warnings(tmp_path: Path) -> None:
    path = tmp_path / "result.gpkg"
    path.write_bytes(write_gpkg(table()))
    report = ogrinfo_strict(path)
    assert "date (DateTime) = 2017/01/06 10:05:00+00" in report
    assert "date (DateTime) = 2017/01/16 10:05:30.250+00" in report


def test_datetime_values_are_iso_8601_utc_with_milliseconds(tmp_path: Path) -> None:
    path = tmp_path / "result.gpkg"
    path.write_bytes(write_gpkg(table()))
    with sqlite3.connect(path) as db:
        stored = [row[0] for row in db.execute(f"SELECT date FROM {LAYER} ORDER BY fid")]
        version = db.execute("PRAGMA user_version").fetchone()[0]
    assert stored == ["2017-01-06T10:05:00.000Z", "2017-01-16T10:05:30.250Z", None]
    assert version == 10300  # GeoPackage 1.3
