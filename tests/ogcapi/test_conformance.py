"""The conformance list is exactly what the tests exercise, and the OpenAPI document
(the landing page's service-desc) is valid and describes every route."""

from __future__ import annotations

import importlib
import re

import pytest
from ogcapi_registry import validate_ogc_api
from openapi_spec_validator import validate
from starlette.testclient import TestClient

from services.ogcapi import PATHS

SPEC = "http://www.opengis.net/spec/"
OPENAPI = "test_conformance.test_openapi_document_is_valid_and_complete"
LANDING = "test_documents.test_landing_page_links_service_desc_conformance_data"
DATA_TILE = "test_tiles.test_data_tile_holds_the_float_values_of_the_window"
EXERCISED: dict[str, list[str]] = {
    "ogcapi-common-1/1.0/conf/core": [LANDING],
    "ogcapi-common-1/1.0/conf/json": ["test_documents.test_conformance_validates"],
    "ogcapi-common-1/1.0/conf/oas30": [
        OPENAPI,
        "test_conformance.test_openapi_document_has_what_the_claimed_classes_require",
    ],
    "ogcapi-common-2/1.0/conf/collections": [
        "test_documents.test_collections_list_jobs_and_catalog",
        "test_documents.test_service_landing_page_has_its_job_only",
        "test_documents.test_job_collection_extent_crs_and_links",
        "test_errors.test_others_see_only_the_catalog",
    ],
    "ogcapi-tiles-1/1.0/conf/core": ["test_tiles.test_map_tile_is_the_xyz_tile"],
    "ogcapi-tiles-1/1.0/conf/tileset": ["test_documents.test_tilesets_and_tileset_validate"],
    "ogcapi-tiles-1/1.0/conf/tilesets-list": ["test_documents.test_tilesets_and_tileset_validate"],
    "ogcapi-tiles-1/1.0/conf/geodata-tilesets": [
        "test_tiles.test_geodata_tiles_are_the_data_tiles",
        "test_documents.test_job_collection_extent_crs_and_links",
        "test_gdal.test_tiles_api_gives_the_wmts_pixels",
    ],
    "ogcapi-tiles-1/1.0/conf/png": ["test_tiles.test_map_tile_is_the_xyz_tile"],
    "ogcapi-tiles-1/1.0/conf/jpeg": ["test_tiles.test_map_tile_is_the_xyz_tile"],
    "ogcapi-tiles-1/1.0/conf/tiff": [DATA_TILE],
    "ogcapi-tiles-1/1.0/conf/oas30": [OPENAPI],
    "tms/2.0/conf/tilematrixset": ["test_documents.test_tile_matrix_sets_are_2d_tms_json"],
    "tms/2.0/conf/json-tilematrixset": ["test_documents.test_tile_matrix_sets_are_2d_tms_json"],
    "tms/2.0/conf/tilesetmetadata": [
        "test_documents.test_tilesets_and_tileset_validate",
        "test_documents.test_tileset_limits_are_the_tiles_over_the_extent",
    ],
    "ogcapi-coverages-1/1.0/conf/core": ["test_coverage.test_whole_coverage_equals_execute"],
    "ogcapi-coverages-1/1.0/conf/geodata-coverage": [
        "test_gdal.test_gdal_translate_coverage_equals_execute"
    ],
    "ogcapi-coverages-1/1.0/conf/subsetting": [
        "test_coverage.test_projected_subset_equals_execute_of_that_bbox",
        "test_coverage.test_lat_lon_subset_keeps_native_pixels_holding_it",
        "test_coverage.test_bbox_in_crs84_equals_lat_lon_subset",
        "test_coverage.test_series_datetime_picks_one_date",
        "test_coverage.test_time_subset_trim_keeps_dates_inside",
        "test_owslib.test_owslib_subset_equals_execute",
    ],
    "ogcapi-coverages-1/1.0/conf/scaling": [
        "test_coverage.test_scaling",
        "test_owslib.test_owslib_scale_size_and_properties",
    ],
    "ogcapi-coverages-1/1.0/conf/fieldselection": [
        "test_coverage.test_properties_select_bands_of_a_catalog_collection",
        "test_owslib.test_owslib_scale_size_and_properties",
    ],
    "ogcapi-coverages-1/1.0/conf/geotiff": ["test_coverage.test_whole_coverage_equals_execute"],
}
"""Each conformance class claimed, and the tests that exercise it."""


def test_conformance_is_what_the_tests_exercise(client: TestClient) -> None:
    claimed = client.get("/ogcapi/conformance").json()["conformsTo"]
    assert sorted(claimed) == sorted(SPEC + c for c in EXERCISED)
    for tests in EXERCISED.values():
        for name in tests:
            module, function = name.split(".")
            assert callable(getattr(importlib.import_module(f"tests.ogcapi.{module}"), function))


def _template(path: str) -> str:
    """A route path with every parameter named ``{}`` (names differ between the two)."""
    return re.sub(r"\{[^}]+\}", "{}", path.removeprefix("/ogcapi")) or "/"


def test_openapi_document_is_valid_and_complete(client: TestClient) -> None:
    response = client.get("/ogcapi/api")
    document = response.json()
    validate(document)
    described = {_template(p) for p in document["paths"]}
    served = {_template(path) for path, _ in PATHS}
    assert served - {"", "/"} <= described
    assert document["servers"][0]["url"].endswith("/ogcapi")


@pytest.mark.parametrize("root", ["/ogcapi", "{service_root}"])
def test_openapi_document_has_what_the_claimed_classes_require(
    client: TestClient, services: dict[str, str], root: str
) -> None:
    """ogcapi-registry's reading of OGC API - Common, Tiles and Coverages: the paths and
    operations each claimed conformance class requires are in the OpenAPI document."""
    base = root.format(service_root=f"/services/{services['min']}/ogcapi")
    document = client.get(f"{base}/api").json()
    conformance = client.get(f"{base}/conformance").json()["conformsTo"]
    result = validate_ogc_api(document, conformance)
    assert result.errors == (), result.errors
    assert result.is_valid
