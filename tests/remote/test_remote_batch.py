"""A batch job on a STAC API collection: Dask workers rebuild the catalog from the settings
(the API, not local paths) and write what synchronous execution returns."""

from __future__ import annotations

import io
from collections.abc import Iterator

import numpy as np
import pytest
import rasterio
from starlette.testclient import TestClient

from ondemand.settings import Settings
from services import create_app
from tests.remote.conftest import Remote
from tests.remote.test_remote_results import landsat_ndvi
from tests.support.batchdata import done, wait_for


@pytest.fixture(scope="module")
def client(remote: Remote, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("remote-batch"),
                        stac_apis=(remote.api_url,), stac_collections=("landsat8-ny-2018",),
                        batch_workers=1, batch_chunk_size=16, batch_jobs=1)
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def test_batch_job_equals_synchronous_execution(client: TestClient) -> None:
    graph, output = landsat_ndvi("max_time"), {"format": "GTiff"}
    job_id = client.post("/jobs", json={"process_graph": graph, "output": output}).json()["job_id"]
    assert client.post(f"/jobs/{job_id}/batch").status_code == 204
    job = wait_for(client.get, job_id, done, timeout=300)
    assert job["status"] == "finished", job
    files = client.get(f"/jobs/{job_id}/batch/download").json()
    cog = client.get(files[0]["href"].replace("http://testserver", "")).content
    same = client.post("/jobs/execute", json={"process_graph": graph, "output": output})
    assert same.status_code == 200, same.text
    with rasterio.open(io.BytesIO(cog)) as got, rasterio.open(io.BytesIO(same.content)) as want:
        assert (got.crs, got.transform, got.shape) == (want.crs, want.transform, want.shape)
        a, b = got.read(masked=True), want.read(masked=True)
    assert a.shape[1] > 16 and a.shape[2] > 16  # several chunks
    np.testing.assert_array_equal(np.ma.getmaskarray(a), np.ma.getmaskarray(b))
    np.testing.assert_allclose(a.compressed(), b.compressed(), atol=1e-6, rtol=0)
    assert a.count() > 100
