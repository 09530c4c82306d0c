"""Zonal statistics over polygons uploaded to an S3 bucket (a real S3-compatible server):
the same numbers as with the files in a folder and as rasterstats on the source files,
synchronously, through a folder of polygon files, and in a batch job (a GPKG table)."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyogrio
import pyogrio.raw
import pytest
import shapely
from starlette.testclient import TestClient

from ondemand.demo import ensure_demo_catalog
from ondemand.settings import Settings
from services import create_app
from tests.api.test_zonal_api import expected as expected  # noqa: F401  (the fixture)
from tests.api.test_zonal_api import ours
from tests.support.batchdata import done, wait_for
from tests.support.polygons import NAME, POLYGON
from tests.support.s3 import bucket_filesystem, new_bucket, s3_environment
from tests.support.seed import zonal_draft_request as draft_request


@pytest.fixture(scope="module")
def bucket_client(demo_data_dir: Path, s3_endpoint: str,
                  tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, Any]]:
    """An app on the demo catalog whose users' files are in a fresh bucket, and the bucket."""
    with s3_environment():
        bucket = new_bucket(s3_endpoint, "zonal")
        fs = bucket_filesystem(s3_endpoint)
        settings = Settings(
            data_dir=tmp_path_factory.mktemp("zonal-s3"),
            catalogs=tuple(ensure_demo_catalog(demo_data_dir)), batch_workers=1,
            files_dir=f"s3://{bucket}/files?endpoint_url={s3_endpoint}",
        )
        with TestClient(create_app(settings)) as client:
            yield client, (fs, bucket)


def _rows(content: bytes, tmp_path: Path) -> list[dict[str, Any]]:
    path = tmp_path / f"t{len(list(tmp_path.iterdir()))}.gpkg"
    path.write_bytes(content)
    meta, _, _, fields = pyogrio.raw.read(path)
    names = list(meta["fields"])
    return [dict(zip(names, values, strict=True)) for values in zip(*fields, strict=True)]


def test_polygons_in_the_bucket_give_the_numbers_of_the_folder_and_rasterstats(
    bucket_client: tuple[TestClient, Any], client: TestClient, uploaded: None,
    expected: dict[str, float], tmp_path: Path,  # noqa: F811
) -> None:
    api, (fs, bucket) = bucket_client
    assert api.put(f"/users/me/files/{NAME}",
                   content=json.dumps(POLYGON).encode()).status_code == 204
    assert fs.cat(f"{bucket}/files/local/{NAME}") == json.dumps(POLYGON).encode()
    in_bucket = api.post("/jobs/execute", json=draft_request())
    in_folder = client.post("/jobs/execute", json=draft_request())
    assert in_bucket.status_code == in_folder.status_code == 200, in_bucket.text
    got = _rows(in_bucket.content, tmp_path)
    assert got == _rows(in_folder.content, tmp_path)
    values = {np.datetime64(r["date"], "s").astype(str) + "+00:00": r["B08_mean"]
              for r in got if r["source"] == NAME}
    assert values.keys() == expected.keys()
    for stamp, mean in expected.items():
        assert values[stamp] == pytest.approx(mean, abs=1e-6)
    assert not any((api.app.state.ondemand.settings.data_dir / "tmp").rglob("*.json"))  # type: ignore[attr-defined]


def test_a_folder_of_geopackage_and_zipped_shapefile_in_the_bucket(
    bucket_client: tuple[TestClient, Any], expected: dict[str, float],  # noqa: F811
    tmp_path: Path,
) -> None:
    api, _ = bucket_client
    shape = shapely.geometry.shape(POLYGON["geometry"])
    for suffix, driver in (("gpkg", "GPKG"), ("shp", "ESRI Shapefile")):
        pyogrio.raw.write(
            str(tmp_path / f"field.{suffix}"), geometry=[shapely.to_wkb(shape)],
            field_data=[], fields=[], crs="EPSG:4326", geometry_type="Polygon", driver=driver,
        )
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        for ext in ("shp", "shx", "dbf", "prj"):
            zipped.write(tmp_path / f"field.{ext}", f"field.{ext}")
    assert api.put("/files/me/fields/a.gpkg",
                   content=(tmp_path / "field.gpkg").read_bytes()).status_code == 204
    assert api.put("/files/me/fields/b.zip", content=archive.getvalue()).status_code == 204
    body = draft_request()
    body["process_graph"]["args"]["regions"] = "/users/me/files/fields/"
    response = api.post("/jobs/execute", json={**body, "output": {"format": "JSON"}})
    assert response.status_code == 200, response.text
    doc = json.loads(response.content)
    rows = [dict(zip(doc["columns"], row, strict=True)) for row in doc["rows"]]
    for source in ("fields/a.gpkg", "fields/b.zip"):
        got = ours([{**r, "source": NAME} for r in rows if r["source"] == source])
        assert len(got) == 3, source
        for stamp, mean in expected.items():
            assert got[stamp.replace("+00:00", "Z")] == pytest.approx(mean, abs=1e-6)


def test_a_batch_table_reads_its_regions_from_the_bucket(
    bucket_client: tuple[TestClient, Any], expected: dict[str, float],  # noqa: F811
    tmp_path: Path,
) -> None:
    api, _ = bucket_client
    assert api.put(f"/users/me/files/{NAME}",
                   content=json.dumps(POLYGON).encode()).status_code == 204
    job_id = api.post("/jobs", json=draft_request()).json()["job_id"]
    assert api.patch(f"/jobs/{job_id}/queue").status_code == 200
    job = wait_for(api.get, job_id, done, timeout=120)
    assert job["status"] == "finished", job
    links = api.get(f"/jobs/{job_id}/download").json()
    gpkg = next(link for link in links if link["href"].endswith(".gpkg"))
    batch = _rows(api.get(gpkg["href"]).content, tmp_path)
    assert batch == _rows(api.post("/jobs/execute", json=draft_request()).content, tmp_path)
    assert len([r for r in batch if r["source"] == NAME]) == 3
