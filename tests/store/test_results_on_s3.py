"""A batch job whose results live in an S3 bucket: published there, downloaded with Range."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import rasterio
from starlette.testclient import TestClient

from ondemand.errors import StoreConfigInvalid
from ondemand.settings import Settings
from services import create_app
from tests.support.batchdata import MIN_NDVI, NDVI_SERIES, done, make_series, wait_for
from tests.support.netcdf import netcdf_bands
from tests.support.s3 import bucket_filesystem, new_bucket


def test_batch_results_in_a_bucket_download_with_range(
    tmp_path: Path, s3_endpoint: str, s3_credentials: None
) -> None:
    bucket = new_bucket(s3_endpoint)
    fs = bucket_filesystem(s3_endpoint)
    collection = make_series(tmp_path / "data")
    settings = Settings(
        data_dir=tmp_path / "server", catalogs=(collection,), batch_chunk_size=128,
        batch_workers=1, results=f"s3://{bucket}/ondemand?endpoint_url={s3_endpoint}",
    )
    with TestClient(create_app(settings)) as client:
        job_id = client.post("/jobs", json={"process_graph": MIN_NDVI}).json()["job_id"]
        assert client.post(f"/jobs/{job_id}/batch").status_code == 204
        assert wait_for(client.get, job_id, done, timeout=120)["status"] == "finished"
        links = client.get(f"/jobs/{job_id}/batch/download").json()
        whole = client.get(links[0]["href"])
        assert whole.status_code == 200
        assert int(whole.headers["content-length"]) == len(whole.content) == links[0]["file:size"]
        for spec, expected in (
            ("bytes=0-99", whole.content[:100]),
            ("bytes=4000-", whole.content[4000:]),
            ("bytes=-10", whole.content[-10:]),
        ):
            part = client.get(links[0]["href"], headers={"Range": spec})
            assert part.status_code == 206 and part.content == expected, spec
        head = client.head(links[0]["href"])
        assert head.status_code == 200 and head.content == b""
        assert int(head.headers["content-length"]) == len(whole.content)
        assert head.headers["accept-ranges"] == "bytes"
        beyond = client.get(links[0]["href"], headers={"Range": f"bytes={len(whole.content)}-"})
        assert beyond.status_code == 416
        assert beyond.headers["content-range"] == f"bytes */{len(whole.content)}"
        sync = client.post("/jobs/execute", json={"process_graph": MIN_NDVI}).content
        run_id = client.app.state.ondemand.jobs.get_job(job_id, None).run_id  # type: ignore[attr-defined]
    stored = fs.ls(f"{bucket}/ondemand/{job_id}/{run_id}", detail=False)
    assert sorted(p.rsplit("/", 1)[1] for p in stored) == ["result.json", "result.tif"]
    assert fs.cat(f"{bucket}/ondemand/{job_id}/{run_id}/result.tif") == whole.content
    assert not (tmp_path / "server" / "results").exists()  # nothing kept locally
    assert not any((tmp_path / "server" / "staging").rglob("*.tif"))
    with rasterio.open(io.BytesIO(whole.content)) as a, rasterio.open(io.BytesIO(sync)) as b:
        np.testing.assert_array_equal(a.read_masks(1), b.read_masks(1))
        np.testing.assert_array_equal(a.read(1, masked=True).filled(0),
                                      b.read(1, masked=True).filled(0))


def test_netcdf_results_in_a_bucket_download_with_head_and_range(
    tmp_path: Path, s3_endpoint: str, s3_credentials: None
) -> None:
    bucket = new_bucket(s3_endpoint)
    fs = bucket_filesystem(s3_endpoint)
    settings = Settings(
        data_dir=tmp_path / "server", catalogs=(make_series(tmp_path / "data"),),
        batch_chunk_size=128, batch_workers=1,
        results=f"s3://{bucket}/ondemand?endpoint_url={s3_endpoint}",
    )
    output = {"format": "netCDF"}
    with TestClient(create_app(settings)) as client:
        job_id = client.post("/jobs", json={"process_graph": NDVI_SERIES}).json()["job_id"]
        assert client.post(f"/jobs/{job_id}/batch", json={"output": output}).status_code == 204
        assert wait_for(client.get, job_id, done, timeout=120)["status"] == "finished"
        link = client.get(f"/jobs/{job_id}/batch/download").json()[0]
        assert link["href"].endswith("/result.nc") and link["type"] == "application/x-netcdf"
        whole = client.get(link["href"])
        assert whole.status_code == 200 and len(whole.content) == link["file:size"]
        head = client.head(link["href"])
        assert head.status_code == 200 and head.content == b""
        assert int(head.headers["content-length"]) == len(whole.content)
        assert head.headers["content-type"] == "application/x-netcdf"
        for spec, expected in (("bytes=0-99", whole.content[:100]),
                               ("bytes=-10", whole.content[-10:])):
            part = client.get(link["href"], headers={"Range": spec})
            assert part.status_code == 206 and part.content == expected, spec
        sync = client.post("/jobs/execute",
                           json={"process_graph": NDVI_SERIES, "output": output}).content
        run_id = client.app.state.ondemand.jobs.get_job(job_id, None).run_id  # type: ignore[attr-defined]
    stored = fs.ls(f"{bucket}/ondemand/{job_id}/{run_id}", detail=False)
    assert sorted(p.rsplit("/", 1)[1] for p in stored) == ["result.json", "result.nc"]
    assert fs.cat(f"{bucket}/ondemand/{job_id}/{run_id}/result.nc") == whole.content
    (tmp_path / "batch.nc").write_bytes(whole.content)
    (tmp_path / "sync.nc").write_bytes(sync)
    got, want = netcdf_bands(tmp_path / "batch.nc"), netcdf_bands(tmp_path / "sync.nc")
    assert len(got) == len(want) == 2
    for (values, tags, _), (same, same_tags, _) in zip(got, want, strict=True):
        assert tags == same_tags and values.count() > 0
        np.testing.assert_array_equal(np.ma.getmaskarray(values), np.ma.getmaskarray(same))
        np.testing.assert_array_equal(values.compressed(), same.compressed())


def test_a_missing_bucket_stops_the_server_at_start_with_a_message(
    tmp_path: Path, s3_endpoint: str, s3_credentials: None
) -> None:
    settings = Settings(data_dir=tmp_path, demo=True,
                        results=f"s3://no-such-bucket-here/x?endpoint_url={s3_endpoint}")
    with pytest.raises(StoreConfigInvalid, match="'no-such-bucket-here' does not exist"):
        with TestClient(create_app(settings)):
            pass
    fs = bucket_filesystem(s3_endpoint)
    assert not fs.exists("no-such-bucket-here")  # not created behind the operator's back
