"""``s3://`` assets read through GDAL's ``/vsis3/`` from a real S3-compatible server (moto's
server mode) with the endpoint and credentials given as ``--gdal`` options: band facts the
STAC leaves out read from the COGs at start, NDVI equal to the local files', a missing
object answered with the asset's name."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
import numpy as np
import pytest
from rasterio.io import MemoryFile

from ondemand.catalog import Catalog, open_catalog
from ondemand.engine import Engine
from ondemand.errors import AssetUnreadable
from ondemand.settings import Settings
from tests.support.s3 import CREDENTIALS

COLLECTION = "s2-l2a-29rkh"
BUCKET = "ondemand-cogs"
BOX = {"left": 300000, "right": 330000, "bottom": 2700000, "top": 2730000, "srs": "EPSG:32629"}
NDVI = {"process_id": "NDVI", "args": {"imagery": {"process_id": "filter_bbox", "args": {
    "imagery": {"product_id": COLLECTION}, **BOX}}, "red": "B04", "nir": "B08"}}


def _s3_catalog(source: Path, target: Path, *, missing: str | None = None) -> Path:
    """The collection with every asset at ``s3://BUCKET/<item>/<band>.tif`` and no
    ``raster:bands`` (data types and nodata are read from the COGs); ``missing`` names a
    band whose object does not exist."""
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("*.tif"))
    for path in target.glob("*/*.json"):
        item = json.loads(path.read_text())
        for band, asset in item["assets"].items():
            key = f"{item['id']}/{band}.tif" if band != missing else f"gone/{band}.tif"
            asset["href"] = f"s3://{BUCKET}/{key}"
            if missing is None:
                asset.pop("raster:bands", None)
        path.write_text(json.dumps(item))
    return target / "collection.json"


@pytest.fixture(scope="module")
def s3_settings(s3_endpoint: str, shared_data: Path) -> Iterator[dict[str, Any]]:
    """The collection's COGs uploaded to a bucket; the GDAL options that reach it and the
    credentials in the environment (as a deployment gives them)."""
    client = boto3.client("s3", endpoint_url=s3_endpoint,
                          aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
                          aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
                          region_name=CREDENTIALS["AWS_DEFAULT_REGION"])
    client.create_bucket(Bucket=BUCKET)
    for tif in (shared_data / COLLECTION).glob("*/*.tif"):
        client.upload_file(str(tif), BUCKET, f"{tif.parent.name}/{tif.name}")
    gdal = (("AWS_S3_ENDPOINT", urlsplit(s3_endpoint).netloc), ("AWS_HTTPS", "NO"),
            ("AWS_VIRTUAL_HOSTING", "FALSE"))
    with pytest.MonkeyPatch.context() as patch:
        for key, value in CREDENTIALS.items():
            patch.setenv(key, value)
        yield {"gdal_config": gdal}


def _engine(catalog_file: Path, data_dir: Path, s3_settings: dict[str, Any]) -> Engine:
    settings = Settings(data_dir=data_dir, catalogs=(catalog_file,), **s3_settings)
    return Engine(open_catalog([catalog_file], settings), settings)


@pytest.fixture(scope="module")
def engines(s3_settings: dict[str, Any], shared_data: Path,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Engine]]:
    work = tmp_path_factory.mktemp("s3")
    on_s3 = _s3_catalog(shared_data / COLLECTION, work / "s3")
    broken = _s3_catalog(shared_data / COLLECTION, work / "broken", missing="B04")
    local_settings = Settings(data_dir=work / "local")
    engines = {
        "s3": _engine(on_s3, work / "d1", s3_settings),
        "broken": _engine(broken, work / "d2", s3_settings),
        "local": Engine(Catalog.load([shared_data / COLLECTION / "collection.json"]),
                        local_settings),
    }
    yield engines
    for engine in engines.values():
        engine.close()


def _tiff(content: bytes) -> np.ma.MaskedArray:
    with MemoryFile(content) as memfile, memfile.open() as dataset:
        return dataset.read(masked=True)


def test_band_facts_read_from_s3_at_start(engines: dict[str, Engine]) -> None:
    mine, theirs = engines["s3"].catalog.get(COLLECTION), engines["local"].catalog.get(COLLECTION)
    assert all(a.href.startswith("s3://") for i in mine.items for a in i.assets.values())
    assert [(b.name, b.dtype, b.nodata) for b in mine.bands] == \
        [(b.name, b.dtype, b.nodata) for b in theirs.bands]
    assert (mine.crs, mine.resolution) == (theirs.crs, theirs.resolution) == (
        theirs.crs, 100.0)


def test_ndvi_from_s3_equals_local(engines: dict[str, Engine]) -> None:
    got = _tiff(engines["s3"].execute(NDVI, {"format": "GTiff"}).content)
    want = _tiff(engines["local"].execute(NDVI, {"format": "GTiff"}).content)
    assert got.shape == want.shape
    np.testing.assert_array_equal(np.ma.getmaskarray(got), np.ma.getmaskarray(want))
    np.testing.assert_allclose(got.compressed(), want.compressed(), rtol=0, atol=1e-6)
    assert got.count() > 20000


def test_missing_object_names_the_asset(engines: dict[str, Engine]) -> None:
    with pytest.raises(AssetUnreadable) as caught:
        engines["broken"].execute(NDVI, {"format": "GTiff"})
    assert "'B04'" in caught.value.message
    assert f"s3://{BUCKET}/gone/B04.tif" in caught.value.message
