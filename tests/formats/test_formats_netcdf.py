"""netCDF output read back with Debian's gdalinfo and with rasterio, against the cube and
against the GeoTIFF of the same cube: values, no data, CRS, geotransform, dates, bands."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine
from rasterio.crs import CRS

from ondemand.cube import Cube
from ondemand.formats import encode, parse_output
from tests.support.netcdf import gdalinfo, netcdf_bands

TIMES = (datetime(2018, 1, 31, 15, 30, tzinfo=UTC), datetime(2018, 4, 5, 15, 30, tzinfo=UTC))
TRANSFORM = Affine(30.0, 0.0, 585000.0, 0.0, -30.0, 4500000.0)


def _cube(dtype: str, bands: tuple[str, ...], times: tuple[datetime, ...] | None) -> Cube:
    rng = np.random.default_rng(7)
    n_t = 1 if times is None else len(times)
    shape = (n_t, len(bands), 6, 9)
    values = (rng.random(shape) * 200).astype(dtype)
    mask = np.zeros(shape, bool)
    mask[..., 0, :3] = True
    mask[-1, -1, 5, 8] = True
    return Cube(np.ma.MaskedArray(values, mask=mask), times, bands, CRS.from_epsg(32618),
                TRANSFORM)


def _write(tmp_path: Path, cube: Cube, fmt: str) -> Path:
    encoded = encode(cube, parse_output({"format": fmt}))
    path = tmp_path / encoded.filename
    path.write_bytes(encoded.content)
    return path


@pytest.mark.parametrize(("dtype", "bands", "times"), [
    ("float32", ("ndvi",), TIMES),
    ("float32", ("B4", "B5"), TIMES),
    ("int16", ("B4", "B5"), None),
    ("uint8", ("mask",), None),
], ids=["ndvi-series", "two-bands-series", "int16-bands", "uint8-one"])
def test_netcdf_reads_back_like_the_geotiff(tmp_path: Path, dtype: str,
                                            bands: tuple[str, ...],
                                            times: tuple[datetime, ...] | None) -> None:
    cube = _cube(dtype, bands, times)
    nc, tif = _write(tmp_path, cube, "netCDF"), _write(tmp_path, cube, "GTiff")
    assert nc.suffix == ".nc" and nc.read_bytes()[:4] == b"\x89HDF"  # netCDF-4
    got = netcdf_bands(nc)
    with rasterio.open(tif) as ref:
        assert len(got) == ref.count
        for index, (values, _, grid) in enumerate(got, start=1):
            assert grid == (ref.crs, ref.transform)
            expected = ref.read(index, masked=True)
            np.testing.assert_array_equal(np.ma.getmaskarray(values),
                                          np.ma.getmaskarray(expected))
            np.testing.assert_array_equal(values.compressed(), expected.compressed())
        descriptions = list(ref.descriptions)
    tags = [t for _, t, _ in got]
    if len(bands) == 1:
        assert all(t["NETCDF_VARNAME"] == bands[0] for t in tags)
    else:
        assert [t["long_name"] for t in tags] == descriptions
        assert [t["band"] for t in tags] == list(bands) * len(times or (0,))
    if times is not None and len(bands) == 1:
        days = [(t - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds() / 86400 for t in times]
        assert [float(t["NETCDF_DIM_t"]) for t in tags] == pytest.approx(days, abs=1e-9)
    info = gdalinfo(nc)
    assert info["driverShortName"] == "netCDF"
    if len(bands) == 1:
        assert info["geoTransform"] == pytest.approx(list(TRANSFORM.to_gdal()))
        assert "UTM zone 18N" in str(info["coordinateSystem"])


def test_float_no_data_is_nan(tmp_path: Path) -> None:
    cube = _cube("float32", ("ndvi",), None)
    with rasterio.open(_write(tmp_path, cube, "netCDF")) as got:
        assert np.isnan(got.nodata)
        raw = got.read(1)
    np.testing.assert_array_equal(np.isnan(raw), np.ma.getmaskarray(cube.data)[0, 0])
    assert np.isnan(raw[0, :3]).all() and np.isnan(raw[5, 8])


def test_integers_without_a_free_value_become_float_with_nan(tmp_path: Path) -> None:
    values = (np.arange(272) % 256).astype("uint8").reshape(1, 1, 16, 17)
    mask = np.zeros(values.shape, bool)
    mask[0, 0, 0, 0] = True  # value 0, which stays in use at pixel 256
    cube = Cube(np.ma.MaskedArray(values, mask=mask), None, ("b",), CRS.from_epsg(4326),
                Affine(0.1, 0, 10, 0, -0.1, 50))
    encoded = encode(cube, parse_output({"format": "nc"}))
    target = tmp_path / encoded.filename
    target.write_bytes(encoded.content)
    with rasterio.open(target) as got:
        assert got.dtypes[0] == "float64" and np.isnan(got.nodata)
        data = got.read(1, masked=True)
    assert data.mask[0, 0] and int(data.mask.sum()) == 1
    np.testing.assert_array_equal(data.compressed(), cube.data.compressed())
