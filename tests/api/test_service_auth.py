"""Services published for their owner only (``args: {"auth": true}``), read by GDAL with Basic."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import rasterio
from rasterio.errors import RasterioIOError
from rasterio.io import MemoryFile

from tests.support.accounts import ALICE, BOB, two_user_settings
from tests.support.live import live_server
from tests.support.seed import use_case_1_job

NATIVE = "UTM32N-20m"


@pytest.fixture(scope="module")
def base_url(demo_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data_dir = tmp_path_factory.mktemp("service-auth")
    settings = two_user_settings(data_dir, demo_data_dir)
    with live_server(settings) as url:
        yield url


@pytest.fixture(scope="module")
def services(base_url: str) -> dict[str, dict[str, Any]]:
    with httpx.Client(base_url=base_url, auth=ALICE, timeout=60) as alice:
        job_id = alice.post("/jobs", json=use_case_1_job()).json()["job_id"]
        out = {}
        for name, kind, args in (
            ("wmts", "wmts", {"auth": True}),
            ("xyz", "xyz", {"auth": True}),
            ("wcs", "wcs", {"auth": True, "VERSION": "2.0.1"}),
            ("public", "wmts", {}),
        ):
            response = alice.post("/services", json={"job_id": job_id, "type": kind, "args": args})
            assert response.status_code == 200, response.text
            out[name] = response.json()
    return out


def _caps(service: dict[str, Any]) -> str:
    return f"{service['service_url']}/1.0.0/WMTSCapabilities.xml"


@pytest.mark.parametrize("name", ["wmts", "wcs"])
def test_anonymous_ogc_request_is_challenged(services: dict[str, Any], name: str) -> None:
    url = services[name]["service_url"] + "?SERVICE=" + name.upper() + "&REQUEST=GetCapabilities"
    response = httpx.get(url)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Basic")
    assert b"ExceptionReport" in response.content


def test_anonymous_tile_is_challenged(services: dict[str, Any]) -> None:
    response = httpx.get(f"{services['xyz']['service_url']}/11/1087/728.png")
    assert response.status_code == 401
    assert set(response.json()) == {"code", "message"}


@pytest.mark.parametrize("name", ["wmts", "xyz", "wcs"])
def test_another_user_gets_not_found(services: dict[str, Any], name: str) -> None:
    url = services[name]["service_url"]
    url = (
        f"{url}/11/1087/728.png"
        if name == "xyz"
        else f"{url}?REQUEST=GetCapabilities&SERVICE={name.upper()}"
    )
    assert httpx.get(url, auth=BOB).status_code == 404


def test_owner_reads_and_public_services_stay_public(services: dict[str, Any]) -> None:
    assert httpx.get(_caps(services["wmts"]), auth=ALICE).status_code == 200
    assert httpx.get(_caps(services["public"])).status_code == 200


def test_gdal_reads_an_authenticated_wmts_with_basic(services: dict[str, Any]) -> None:
    layer = services["wmts"]["job_id"]  # a WMTS layer is named by its job
    source = f"WMTS:{_caps(services['wmts'])},tilematrixset={NATIVE}"
    with rasterio.Env(GDAL_ENABLE_WMS_CACHE="NO", GDAL_HTTP_TIMEOUT="60"):
        with pytest.raises(RasterioIOError):
            rasterio.open(source)
    with rasterio.Env(
        GDAL_ENABLE_WMS_CACHE="NO",
        GDAL_HTTP_TIMEOUT="60",
        GDAL_HTTP_AUTH="BASIC",
        GDAL_HTTP_USERPWD=":".join(ALICE),
    ):
        with rasterio.open(source) as ds:
            assert ds.crs.to_epsg() == 32632
            pixels = ds.read(window=((256, 512), (512, 768)))
    tile = httpx.get(
        f"{services['wmts']['service_url']}/tile/1.0.0/{layer}/default/{NATIVE}/2/1/2.png",
        auth=ALICE,
    )
    assert tile.status_code == 200, tile.text
    with MemoryFile(tile.content) as mem, mem.open() as png:
        np.testing.assert_array_equal(pixels, png.read())


def test_auth_argument_must_be_a_boolean(base_url: str) -> None:
    with httpx.Client(base_url=base_url, auth=ALICE) as alice:
        job_id = alice.post("/jobs", json=use_case_1_job()).json()["job_id"]
        response = alice.post(
            "/services", json={"job_id": job_id, "type": "wmts", "args": {"auth": "yes"}}
        )
    assert response.status_code == 400
    assert "auth" in response.json()["message"]
