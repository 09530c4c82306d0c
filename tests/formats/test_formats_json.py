from __future__ import annotations

import json
from datetime import datetime

import numpy as np
import pytest
from affine import Affine
from rasterio.crs import CRS

from ondemand.cube import Cube
from ondemand.formats import encode, parse_output

TRANSFORM = Affine(0.5, 0.0, 10.0, 0.0, -0.5, 50.0)


def masked(values: np.ndarray) -> np.ma.MaskedArray:
    mask = np.zeros(values.shape, dtype=bool)
    mask[..., 0, 1] = True
    return np.ma.MaskedArray(values, mask=mask)


@pytest.mark.parametrize("dtype", ["float32", "float64", "int16", "uint8"])
def test_values_and_nulls_round_trip(dtype: str) -> None:
    values = (np.arange(2 * 1 * 3 * 4).reshape(2, 1, 3, 4) / 7).astype(dtype)
    times = (datetime(2021, 5, 1), datetime(2021, 5, 11))
    cube = Cube(masked(values), times, ("ndvi",), CRS.from_epsg(4326), TRANSFORM)
    encoded = encode(cube, parse_output({"format": "json"}))
    assert (encoded.media_type, encoded.filename) == ("application/json", "result.json")
    document = json.loads(encoded.content)
    assert document["crs"] == "EPSG:4326"
    assert document["transform"] == [0.5, 0.0, 10.0, 0.0, -0.5, 50.0]
    assert document["bands"] == ["ndvi"]
    assert document["times"] == ["2021-05-01T00:00:00", "2021-05-11T00:00:00"]
    assert document["dims"] == ["t", "bands", "y", "x"]
    assert document["shape"] == [2, 1, 3, 4]
    rows = np.array(document["data"], dtype=object)
    nulls = np.vectorize(lambda v: v is None)(rows)
    np.testing.assert_array_equal(nulls, cube.data.mask)
    read_back = np.where(nulls, 0, rows).astype(dtype)
    np.testing.assert_array_equal(read_back[~nulls], values[~cube.data.mask])


def test_no_time_axis_drops_t_and_non_finite_floats_are_null() -> None:
    values = np.array([[[1.5, 2.5], [np.nan, np.inf]]], dtype=np.float32)[np.newaxis]
    cube = Cube(
        np.ma.MaskedArray(values, mask=np.zeros(values.shape, bool)),
        None,
        ("b1",),
        CRS.from_epsg(32632),
        TRANSFORM,
    )
    document = json.loads(encode(cube, parse_output({"format": "JSON"})).content)
    assert document["times"] is None
    assert document["dims"] == ["bands", "y", "x"]
    assert document["shape"] == [1, 2, 2]
    assert document["data"] == [[[1.5, 2.5], [None, None]]]
    assert document["crs"] == "EPSG:32632"
