"""Result storage, the same tests on a folder and on a real S3-compatible server."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from ondemand.batch.storage import ResultStorage, open_results
from ondemand.errors import StoreConfigInvalid
from tests.support.s3 import new_bucket

PAYLOAD = os.urandom(3 * 1024 * 1024 + 17)
"""More than one read block, not a multiple of it."""


@pytest.fixture(params=["folder", "s3"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ResultStorage]:
    if request.param == "folder":
        yield open_results(str(tmp_path / "shared"), tmp_path)
        return
    endpoint: str = request.getfixturevalue("s3_endpoint")
    request.getfixturevalue("s3_credentials")
    bucket = new_bucket(endpoint)
    yield open_results(f"s3://{bucket}/deployment/a?endpoint_url={endpoint}", tmp_path)


def staged(tmp_path: Path, **files: bytes) -> Path:
    folder = tmp_path / f"staging-{uuid.uuid4().hex[:6]}"
    folder.mkdir()
    for name, content in files.items():
        (folder / name.replace("_", ".")).write_bytes(content)
    return folder


def test_published_files_have_their_size_and_every_range(
    storage: ResultStorage, tmp_path: Path
) -> None:
    folder = staged(tmp_path, result_tif=PAYLOAD, result_json=b"{}")
    storage.publish("job1", "run1", folder, ["result.tif", "result.json"])
    assert storage.size("job1", "run1", "result.tif") == len(PAYLOAD)
    assert storage.size("job1", "run1", "result.json") == 2
    assert storage.size("job1", "run1", "missing.tif") is None
    assert storage.size("job1", "other-run", "result.tif") is None
    for start, end in ((0, len(PAYLOAD)), (0, 1), (1000, 5096), (len(PAYLOAD) - 1, len(PAYLOAD)),
                       (1024 * 1024 - 3, 2 * 1024 * 1024 + 5)):
        assert b"".join(storage.read("job1", "run1", "result.tif", start, end)) == \
            PAYLOAD[start:end]


def test_runs_and_jobs_are_removed_selectively(storage: ResultStorage, tmp_path: Path) -> None:
    for job, run in (("j1", "r1"), ("j1", "r2"), ("j2", "r1"), ("j3", "r9")):
        storage.publish(job, run, staged(tmp_path, result_json=b"[]"), ["result.json"])
    assert sorted(storage.job_ids()) == ["j1", "j2", "j3"]
    assert sorted(storage.runs("j1")) == ["r1", "r2"]
    storage.remove_runs("j1", keep="r2")
    assert storage.runs("j1") == ["r2"]
    storage.remove_run("j2", "r1")
    assert storage.runs("j2") == [] and storage.size("j2", "r1", "result.json") is None
    storage.remove_orphans({"j1", "j2"})
    assert "j3" not in storage.job_ids()
    storage.remove_runs("j1")
    assert "j1" not in storage.job_ids()
    storage.remove_run("never", "there")  # nothing to remove is fine


def test_default_is_a_folder_under_the_data_dir(tmp_path: Path) -> None:
    storage = open_results(None, tmp_path)
    assert storage.is_local and storage.root == (tmp_path / "results").resolve().as_posix()
    assert open_results(f"file://{tmp_path}/x", tmp_path).root == f"{tmp_path}/x"


@pytest.mark.parametrize(
    ("location", "words"),
    [
        ("ftp://host/results", "Unknown results location"),
        ("s3://", "names no bucket"),
        ("s3://bucket/p?secret=1", "Unknown options ['secret']"),
    ],
)
def test_unusable_locations_are_refused(tmp_path: Path, location: str, words: str) -> None:
    with pytest.raises(StoreConfigInvalid, match=words.replace("[", r"\[").replace("]", r"\]")):
        open_results(location, tmp_path)
