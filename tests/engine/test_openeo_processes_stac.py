"""load_stac of a static STAC collection over HTTP (a loopback server) and from a local folder.

The collection (real Sentinel-2 red/green/blue over Mol, three dates) is not in the
engine's catalog; its pixels must equal the source files read with rasterio.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from ondemand.errors import ArgumentInvalid
from tests.support.openeo import (
    LANDSAT,
    Runner,
    assert_close,
    band_file,
    file_window,
    flat,
    item_folders,
    read_stack,
)
from tests.support.static_http import static_server

NAME = "s2-rgb-mol-2023"


@pytest.fixture(scope="module")
def runner(shared_data: Path) -> Iterator[Runner]:
    with Runner([shared_data / LANDSAT], stac_roots=[shared_data / NAME]) as r:
        yield r


@pytest.fixture(scope="module")
def base_url(shared_data: Path) -> Iterator[str]:
    with static_server(shared_data) as url:
        yield url


def load(url: str, **arguments: object) -> dict[str, object]:
    return flat(("s", "load_stac", {"url": url, "bands": ["B04", "B02"], **arguments}))


@pytest.mark.parametrize("where", ["http", "local"])
def test_load_stac_reads_the_source_pixels(
    runner: Runner, shared_data: Path, base_url: str, where: str
) -> None:
    url = (f"{base_url}/{NAME}/collection.json" if where == "http"
           else str(shared_data / NAME / "collection.json"))
    folders = item_folders(shared_data / NAME)
    window = file_window(band_file(folders[0], "B04"))
    cube = runner.run(load(url), window=window)
    assert cube.bands == ("B04", "B02") and len(cube.times) == len(folders) == 3
    for k, band in enumerate(("B04", "B02")):
        expected = read_stack(folders, band, nodata=-32768)
        assert_close(cube.data[:, k], expected)


def test_load_stac_filters_dates_with_an_exclusive_end(
    runner: Runner, shared_data: Path, base_url: str
) -> None:
    folders = item_folders(shared_data / NAME)
    window = file_window(band_file(folders[0], "B04"))
    cube = runner.run(load(f"{base_url}/{NAME}/collection.json",
                           temporal_extent=["2023-06-01", "2023-06-06"]), window=window)
    assert [t.date().isoformat() for t in cube.times] == ["2023-06-01", "2023-06-04"]


def test_ndvi_style_band_math_on_a_stac_collection(
    runner: Runner, shared_data: Path, base_url: str
) -> None:
    folders = item_folders(shared_data / NAME)
    window = file_window(band_file(folders[0], "B04"))
    doc = load(f"{base_url}/{NAME}/collection.json")
    graph = doc["process_graph"]
    assert isinstance(graph, dict)
    graph["s"].pop("result")
    graph["nd"] = {"process_id": "ndvi", "result": True, "arguments": {
        "data": {"from_node": "s"}, "nir": "B04", "red": "B02"}}
    cube = runner.run(doc, window=window)
    red = read_stack(folders, "B04", nodata=-32768)
    blue = read_stack(folders, "B02", nodata=-32768)
    with np.errstate(all="ignore"):
        expected = np.ma.masked_invalid(((red - blue) / (red + blue)).filled(np.nan))
    assert_close(cube.data[:, 0], expected, rtol=1e-5)


@pytest.mark.parametrize(
    "url",
    ["/etc/passwd", "file:///etc/hostname", "http://127.0.0.1:9/missing/collection.json", ""],
)
def test_unreadable_or_forbidden_urls_name_the_argument(runner: Runner, url: str) -> None:
    with pytest.raises(ArgumentInvalid, match="'url'"):
        runner.compile(load(url))


def test_a_missing_file_on_the_server_names_the_url(runner: Runner, base_url: str) -> None:
    with pytest.raises(ArgumentInvalid, match="'url'"):
        runner.compile(load(f"{base_url}/nothing/collection.json"))
