"""Uploads under pressure: one user's concurrent uploads near a full quota, killed uploads,
and names spelled in NFC or NFD."""

from __future__ import annotations

import os
import threading
import unicodedata
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from affine import Affine
from starlette.testclient import TestClient

from ondemand.settings import Settings
from ondemand.userfiles import UserFiles
from services import create_app
from tests.support.cogs import make_collection

MAX_FILE = 4096
QUOTA = 10_000
THREADS = 16


def _settings(root: Path) -> Settings:
    band = (np.ones((4, 4), dtype=np.uint16), 0.0, 1.0, 0.0)
    catalog = make_collection(root / "tiny", [("i1", datetime(2020, 1, 1, tzinfo=UTC),
                                               {"B1": band})], 32633,
                              Affine(10, 0, 500000, 0, -10, 5000000))
    return Settings(data_dir=root / "data", catalogs=(catalog,), max_file_bytes=MAX_FILE,
                    user_quota_bytes=QUOTA)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path


@pytest.fixture
def api(root: Path) -> Iterator[TestClient]:
    with TestClient(create_app(_settings(root)), raise_server_exceptions=False) as client:
        yield client


def _folder(root: Path) -> Path:
    return root / "data" / "files" / "local"


def _everything_on_disk(folder: Path) -> list[Path]:
    return [Path(d) / n for d, _, names in os.walk(folder) for n in names]


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_sixteen_concurrent_uploads_near_full_quota(api: TestClient, root: Path) -> None:
    assert api.put("/files/me/base.bin", content=b"b" * 4000).status_code == 204
    assert api.put("/files/me/base2.bin", content=b"b" * 4000).status_code == 204
    statuses: Counter[int] = Counter()
    over_quota: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(THREADS)

    def worker(n: int) -> None:
        start.wait()
        for i in range(12):
            name = f"t{n % 5}/f{i % 3}.bin"
            response = api.put(f"/files/me/{name}", content=bytes([n]) * (300 + 97 * (i % 4)))
            listing = api.get("/files/me")
            used = sum(e["size"] for e in listing.json()) if listing.status_code == 200 else 0
            with lock:
                statuses[response.status_code] += 1
                statuses[listing.status_code] += 1
                if used > QUOTA:
                    over_quota.append(used)
            if i % 4 == 3:
                deleted = api.delete(f"/files/me/{name}")
                with lock:
                    statuses[deleted.status_code] += 1

    def round_of_uploads() -> None:
        threads = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    round_of_uploads()  # warm-up: thread pools and connections reach their size
    baseline = _open_fds()
    round_of_uploads()
    assert set(statuses) <= {200, 204, 404, 413}, statuses
    assert statuses[204] > 0 and statuses[413] > 0, statuses
    assert over_quota == []
    listing = api.get("/files/me").json()
    on_disk = _everything_on_disk(_folder(root))
    assert sorted(p.relative_to(_folder(root)).as_posix() for p in on_disk
                  if not p.name.startswith(".")) == sorted(e["name"] for e in listing)
    assert [p for p in on_disk if p.name.startswith(".upload-")] == []
    assert _open_fds() <= baseline


def test_killed_upload_neither_counts_nor_stays(root: Path) -> None:
    settings = _settings(root)
    files = UserFiles.of(settings.files_root, "local", max_file_bytes=MAX_FILE,
                         quota_bytes=QUOTA)
    files.write("a.bin", [b"a" * 3000])
    files.write("b.bin", [b"b" * 3000])
    killed = files.begin("big.bin")
    killed.write(b"x" * 3500)
    os.close(killed._fd)  # the process died: its descriptor (and lock) are gone, the file stays
    killed._fd = -1
    leftovers = [p for p in _everything_on_disk(files.root) if p.name.startswith(".upload-")]
    assert len(leftovers) == 1
    assert files.used_bytes() == 6000
    assert [f.name for f in files.listing()] == ["a.bin", "b.bin"]
    files.write("c.bin", [b"c" * 3900])  # legal: 9900 of 10000 committed
    assert files.used_bytes() == 9900
    assert not leftovers[0].exists(), "the next upload of the user swept the dead temp file"


def test_interrupted_uploads_are_swept_at_start(root: Path) -> None:
    settings = _settings(root)
    files = UserFiles.of(settings.files_root, "local", max_file_bytes=MAX_FILE,
                         quota_bytes=QUOTA)
    files.write("sub/a.bin", [b"a" * 10])
    staging = files.root / ".staging"
    staging.mkdir(exist_ok=True)
    dead = [staging / ".upload-dead.tmp", files.root / "sub" / ".upload-old-layout.tmp"]
    for path in dead:
        path.write_bytes(b"x" * 4000)
    with TestClient(create_app(settings)) as client:
        assert [e["name"] for e in client.get("/files/me").json()] == ["sub/a.bin"]
    assert [p.exists() for p in dead] == [False, False]


def test_a_running_upload_is_not_swept(root: Path) -> None:
    settings = _settings(root)
    files = UserFiles.of(settings.files_root, "local", max_file_bytes=MAX_FILE,
                         quota_bytes=QUOTA)
    running = files.begin("slow.bin")
    running.write(b"s" * 100)
    files.write("other.bin", [b"o"])  # sweeps dead uploads, never a live one
    running.write(b"s" * 100)
    running.commit()
    assert files.file("slow.bin").read_bytes() == b"s" * 200


def test_nfc_and_nfd_spellings_are_one_file(api: TestClient) -> None:
    nfc = unicodedata.normalize("NFC", "café/Ärger.txt")
    nfd = unicodedata.normalize("NFD", nfc)
    assert nfc != nfd
    assert api.put(f"/files/me/{nfd}", content=b"first").status_code == 204
    assert api.put(f"/files/me/{nfc}", content=b"second").status_code == 204
    assert [e["name"] for e in api.get("/files/me").json()] == [nfc]
    assert api.get(f"/files/me/{nfd}").content == b"second"
    assert api.delete(f"/files/me/{nfd}").status_code == 204
    assert api.get("/files/me").json() == []
