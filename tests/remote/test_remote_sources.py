"""Other remote sources: a static collection over HTTP, signed asset hrefs, the CLI flags."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from rasterio.io import MemoryFile

from ondemand.catalog import Catalog, open_catalog
from ondemand.engine import Engine
from ondemand.errors import CatalogInvalid
from ondemand.gdalenv import gdal_options
from ondemand.settings import Settings
from services.cli import build_parser, main, settings_from_args
from tests.remote.conftest import BROKEN_ID, Remote
from tests.support.stacapi import RangeServer

MOL = "s2-rgb-mol-2023"
GRAPH = {"process_id": "filter_bands", "args": {"imagery": {"product_id": MOL},
                                                "bands": ["B04", "B03"]}}


def _tiff(content: bytes) -> np.ma.MaskedArray:
    with MemoryFile(content) as memfile, memfile.open() as dataset:
        return dataset.read(masked=True)


@pytest.fixture(scope="module")
def local(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    engine = Engine(Catalog.load([shared_data / MOL / "collection.json"]),
                    Settings(data_dir=tmp_path_factory.mktemp("mol")))
    yield engine
    engine.close()


def test_static_collection_over_http_equals_local(files: RangeServer, local: Engine,
                                                  tmp_path: Path) -> None:
    url = f"{files.url}/data/{MOL}/collection.json"
    settings = Settings(data_dir=tmp_path, catalog_urls=(url,))
    engine = Engine(open_catalog([], settings), settings)
    try:
        collection = engine.catalog.get(MOL)
        assert collection.complete and len(collection.items) == 3
        assert all(a.href.startswith(f"{files.url}/data/{MOL}/")
                   for i in collection.items for a in i.assets.values())
        got = _tiff(engine.execute(GRAPH, {"format": "GTiff"}).content)
    finally:
        engine.close()
    want = _tiff(local.execute(GRAPH, {"format": "GTiff"}).content)
    np.testing.assert_array_equal(np.ma.getmaskarray(got), np.ma.getmaskarray(want))
    np.testing.assert_array_equal(got.compressed(), want.compressed())
    assert got.count() > 0


def test_unreachable_static_url_is_a_problem_not_a_crash(files: RangeServer,
                                                         tmp_path: Path) -> None:
    url = f"{files.url}/data/no-such/collection.json"
    catalog = open_catalog([], Settings(data_dir=tmp_path, catalog_urls=(url,)))
    assert len(catalog) == 0 and url in catalog.problems[0] and "404" in catalog.problems[0]


def test_signing_hook_signs_every_asset_read(remote: Remote, files: RangeServer,
                                             tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, stac_apis=(remote.api_url,),
                        stac_collections=(BROKEN_ID,),
                        sign_hrefs="tests.support.stacapi:sign_with_token")
    engine = Engine(open_catalog([], settings), settings)
    try:
        collection = engine.catalog.get(BROKEN_ID)
        assert all(a.href.endswith("?token=signed-by-test")
                   for a in collection.items[0].assets.values())
        before = len(files.log.queries)
        graph = {"process_id": "filter_bands", "args": {"imagery": {
            "process_id": "filter_daterange", "args": {"imagery": {"product_id": BROKEN_ID},
                                                       "from": "2023-06-04", "to": "2023-06-04"}},
            "bands": ["B02"]}}
        assert _tiff(engine.execute(graph, {"format": "GTiff"}).content).count() > 0
    finally:
        engine.close()
    signed = files.log.queries[before:]
    assert signed and all(q.endswith("?token=signed-by-test") for q in signed)
    assert any("B02.tif" in q for q in signed)


def test_unknown_signing_hook_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CatalogInvalid, match="no_such_module"):
        open_catalog([], Settings(data_dir=tmp_path, sign_hrefs="no_such_module:sign"))


def test_cli_flags_become_settings_and_survive_the_environment() -> None:
    args = build_parser().parse_args([
        "serve", "--stac-api", "https://a.example/v1", "--stac-api", "http://b.example",
        "--stac-collection", "sentinel-2-l2a", "--catalog", "https://c.example/x.json",
        "--catalog", "local/collection.json", "--sign-hrefs", "planetary_computer:sign",
        "--aws-no-sign-request", "--gdal", "GDAL_HTTP_MULTIPLEX=NO", "--gdal", "CPL_DEBUG=ON"])
    settings = settings_from_args(args)
    assert settings.stac_apis == ("https://a.example/v1", "http://b.example")
    assert settings.stac_collections == ("sentinel-2-l2a",)
    assert settings.catalog_urls == ("https://c.example/x.json",)
    assert settings.catalogs == (Path("local/collection.json"),)
    assert not settings.uses_demo
    assert Settings.from_env(settings.to_env()) == settings.__class__(
        **{**settings.__dict__, "host": Settings().host, "port": Settings().port})
    options = gdal_options(settings)
    assert options["GDAL_HTTP_MULTIPLEX"] == "NO" and options["CPL_DEBUG"] == "ON"
    assert options["AWS_NO_SIGN_REQUEST"] == "YES"
    assert options["GDAL_DISABLE_READDIR_ON_OPEN"] == "EMPTY_DIR"


@pytest.mark.parametrize(("flag", "says"), [
    ("NOEQUALS", "KEY=VALUE"),
    ("AWS_SECRET_ACCESS_KEY=abc", "environment"),
])
def test_bad_gdal_flag_stops_with_a_message(capsys: pytest.CaptureFixture[str], flag: str,
                                            says: str) -> None:
    assert main(["serve", "--gdal", flag]) == 2
    assert says in capsys.readouterr().err
