"""Users' files in an S3 bucket (a real S3-compatible server) shared by two ``ondemand serve``
processes and one PostgreSQL store: each sees the other's uploads, concurrent uploads never
pass the quota, an upload cut off mid-body leaves nothing, dead uploads are swept, and
every error answer is the folder store's."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from affine import Affine
from starlette.testclient import TestClient

from ondemand.errors import StoreConfigInvalid
from ondemand.settings import Settings
from ondemand.store.sqlite import SQLiteDatabase
from ondemand.userfiles import BucketFileRoot, open_files
from services import create_app
from tests.api.test_files_api import HOSTILE_URLS
from tests.support.batchdata import ROOT, child_env, free_port, wait_until_serving
from tests.support.cluster import stop_processes
from tests.support.cogs import make_collection
from tests.support.postgres import Postgres
from tests.support.s3 import (
    CREDENTIALS,
    bucket_filesystem,
    new_bucket,
    s3_environment,
    s3_server,
)

MAX_FILE = 4096
QUOTA = 10_000
THREADS = 16
MIB = 1024 * 1024


def _catalog(root: Path) -> Path:
    band = (np.ones((4, 4), dtype=np.uint16), 0.0, 1.0, 0.0)
    return make_collection(root / "tiny", [("i1", datetime(2020, 1, 1, tzinfo=UTC),
                                            {"B1": band})], 32633,
                           Affine(10, 0, 500000, 0, -10, 5000000))


@contextmanager
def server(data_dir: Path, catalog: Path, store: str, files_dir: str,
           **env: str) -> Iterator[httpx.Client]:
    """``ondemand serve`` on a free loopback port; a client of it."""
    port = free_port()
    command = [sys.executable, "-m", "services.cli", "serve", "--host", "127.0.0.1",
               "--port", str(port), "--data-dir", str(data_dir), "--catalog", str(catalog),
               "--store", store, "--files-dir", files_dir, "--log-level", "warning"]
    process = subprocess.Popen(command, env=child_env(**CREDENTIALS, **env), cwd=ROOT,
                               stdout=subprocess.DEVNULL)
    http = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60)
    try:
        wait_until_serving(http, process, 90)
        yield http
    finally:
        http.close()
        stop_processes([process])


def _uploads(fs: Any, bucket: str) -> list[dict[str, Any]]:
    return list(fs.list_multipart_uploads(bucket))


def _objects(fs: Any, bucket: str) -> list[str]:
    return [str(p) for p in fs.find(bucket)]


@pytest.fixture(scope="module")
def pair(postgres: Postgres, s3_endpoint: str, tmp_path_factory: pytest.TempPathFactory
         ) -> Iterator[tuple[httpx.Client, httpx.Client, Any, str]]:
    """Two servers sharing one PostgreSQL store and one bucket (small file limits)."""
    root = tmp_path_factory.mktemp("files-s3")
    store = postgres.create_database("files_s3")
    with s3_environment():
        bucket = new_bucket(s3_endpoint, "files")
        fs = bucket_filesystem(s3_endpoint)
        fs.ls(bucket)  # the client signs with the test credentials from now on
    files_dir = f"s3://{bucket}/users?endpoint_url={s3_endpoint}"
    limits = {"ONDEMAND_MAX_FILE_BYTES": str(MAX_FILE), "ONDEMAND_USER_QUOTA_BYTES": str(QUOTA)}
    catalog = _catalog(root)
    with server(root / "a", catalog, store, files_dir, **limits) as a, \
            server(root / "b", catalog, store, files_dir, **limits) as b:
        yield a, b, fs, bucket


@pytest.fixture(autouse=True)
def _empty(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "pair" in request.fixturenames:
        a = request.getfixturevalue("pair")[0]
        for entry in a.get("/files/me").json():
            a.delete(f"/files/me/{entry['name']}")


def test_two_servers_see_each_others_uploads(
    pair: tuple[httpx.Client, httpx.Client, Any, str]
) -> None:
    a, b, fs, bucket = pair
    payload = bytes(np.random.default_rng(3).integers(0, 256, 4000, dtype=np.uint8))
    assert a.put("/users/me/files/sub/raw.bin", content=payload).status_code == 204
    assert b.put("/files/me/form.json", files={"file": ("f.json", b'{"a": 1}')}).status_code == 204
    for client in (a, b):
        listing = client.get("/files/me").json()
        assert [(e["name"], e["size"]) for e in listing] == [("form.json", 8),
                                                             ("sub/raw.bin", 4000)]
        assert client.get("/files/me/sub/raw.bin").content == payload
        assert client.get("/files/me/form.json").content == b'{"a": 1}'
        openeo = client.get("/openeo/1.2/files").json()
        assert [(f["path"], f["size"]) for f in openeo["files"]] == [("form.json", 8),
                                                                     ("sub/raw.bin", 4000)]
    assert fs.cat(f"{bucket}/users/local/sub/raw.bin") == payload
    part = b.get("/files/me/sub/raw.bin", headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.content == payload[100:200]
    assert b.delete("/files/me/sub/raw.bin").status_code == 204
    assert a.get("/files/me/sub/raw.bin").status_code == 404
    assert a.delete("/files/me/sub/raw.bin").status_code == 404
    assert [e["name"] for e in a.get("/files/me").json()] == ["form.json"]
    assert _uploads(fs, bucket) == []


def test_concurrent_uploads_on_both_servers_never_pass_the_quota(
    pair: tuple[httpx.Client, httpx.Client, Any, str]
) -> None:
    a, b, fs, bucket = pair
    statuses: list[tuple[int, int | None]] = []
    barrier = threading.Barrier(THREADS)

    def upload(i: int) -> None:
        client = (a, b)[i % 2]
        barrier.wait()
        response = client.put(f"/files/me/f{i}.bin", content=bytes([i]) * 3000)
        code = response.json()["code"] if response.status_code != 204 else None
        statuses.append((response.status_code, code))

    threads = [threading.Thread(target=upload, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert Counter(statuses) == {(204, None): 3, (413, 507): THREADS - 3}
    listing = b.get("/files/me").json()
    assert sum(e["size"] for e in listing) == 9000 <= QUOTA
    stored = {p: fs.size(p) for p in _objects(fs, bucket)}
    assert sorted(stored.values()) == [3000, 3000, 3000]
    for entry in listing:  # each committed file is its own upload, whole
        i = int(entry["name"][1:-4])
        assert a.get(f"/files/me/{entry['name']}").content == bytes([i]) * 3000
    assert _uploads(fs, bucket) == []


def _wait(condition: Callable[[], bool], timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def test_an_upload_cut_off_mid_body_leaves_nothing(
    postgres: Postgres, s3_endpoint: str, s3_credentials: None, tmp_path: Path
) -> None:
    bucket = new_bucket(s3_endpoint, "files")
    fs = bucket_filesystem(s3_endpoint)
    files_dir = f"s3://{bucket}/users?endpoint_url={s3_endpoint}"
    limits = {"ONDEMAND_MAX_FILE_BYTES": str(32 * MIB), "ONDEMAND_USER_QUOTA_BYTES": str(64 * MIB)}
    with server(tmp_path / "a", _catalog(tmp_path), postgres.create_database("cut_off"),
                files_dir, **limits) as http:
        port = http.base_url.port
        assert port is not None
        with socket.create_connection(("127.0.0.1", port)) as conn:
            conn.sendall(b"PUT /files/me/big.bin HTTP/1.1\r\nHost: x\r\n"
                         b"Content-Length: %d\r\n\r\n" % (16 * MIB))
            chunk = b"y" * (64 * 1024)
            for _ in range(7 * MIB // len(chunk)):  # over one part: a multipart upload runs
                conn.sendall(chunk)
            assert _wait(lambda: len(_uploads(fs, bucket)) == 1), "no multipart upload started"
        # the client is gone: the server aborts the multipart upload
        assert _wait(lambda: _uploads(fs, bucket) == []), _uploads(fs, bucket)
        assert _objects(fs, bucket) == []
        assert http.get("/files/me").json() == []
        body = b"z" * (6 * MIB)  # a whole upload of the same size goes through
        assert http.put("/files/me/big.bin", content=body).status_code == 204
        assert fs.cat(f"{bucket}/users/local/big.bin") == body
        assert _uploads(fs, bucket) == []


def test_dead_uploads_are_swept_once_stale(s3_endpoint: str, s3_credentials: None,
                                           tmp_path: Path) -> None:
    bucket = new_bucket(s3_endpoint, "files")
    fs = bucket_filesystem(s3_endpoint)
    database = SQLiteDatabase(tmp_path / "jobs.sqlite")
    try:
        root = open_files(f"s3://{bucket}/users?endpoint_url={s3_endpoint}", tmp_path, database)
        assert isinstance(root, BucketFileRoot)
        files = root.of("local", max_file_bytes=32 * MIB, quota_bytes=64 * MIB)
        dead = files.begin("dead.bin")
        dead.write(b"d" * (6 * MIB))  # one part sent; then the process "dies"
        assert len(_uploads(fs, bucket)) == 1
        assert root.sweep() == 0  # it may still be running on another server
        assert root.sweep(older_than=0) == 1
        assert _uploads(fs, bucket) == [] and _objects(fs, bucket) == []
        assert files.listing() == []
    finally:
        database.close()


def test_a_missing_bucket_stops_the_server_at_start(s3_endpoint: str, s3_credentials: None,
                                                    tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, catalogs=(_catalog(tmp_path),),
                        files_dir=f"s3://no-such-files-bucket/x?endpoint_url={s3_endpoint}")
    with pytest.raises(StoreConfigInvalid, match="'no-such-files-bucket' does not exist"):
        with TestClient(create_app(settings)):
            pass


@pytest.fixture(scope="module")
def both(s3_endpoint: str, tmp_path_factory: pytest.TempPathFactory
         ) -> Iterator[tuple[TestClient, TestClient]]:
    """Two apps with the same limits: one keeps files in a folder, one in a bucket."""
    root = tmp_path_factory.mktemp("both")
    catalog = _catalog(root)
    with s3_environment():
        bucket = new_bucket(s3_endpoint, "files")
        apps = [Settings(data_dir=root / name, catalogs=(catalog,), max_file_bytes=MAX_FILE,
                         user_quota_bytes=QUOTA, files_dir=files_dir)
                for name, files_dir in (("folder", None),
                                        ("bucket", f"s3://{bucket}/u?endpoint_url={s3_endpoint}"))]
        with TestClient(create_app(apps[0])) as folder, TestClient(create_app(apps[1])) as bucket_:
            yield folder, bucket_


CASES = [(method, url, None) for url in HOSTILE_URLS.values() for method in ("PUT", "GET",
                                                                            "DELETE")]
CASES += [
    ("GET", "/files/me/missing.txt", None), ("DELETE", "/files/me/missing.txt", None),
    ("GET", "/files/bob", None), ("PUT", "/files/me/big.bin", b"x" * (MAX_FILE + 1)),
    ("PUT", "/files/me/a.txt", b"x"), ("PUT", "/files/me/a.txt/b.txt", b"x"),
    ("PUT", "/files/me/c", b"x" * 4000), ("PUT", "/files/me/d", b"x" * 4000),
    ("PUT", "/files/me/e", b"x" * 2500), ("GET", "/files/me/a.txt/x", None),
    ("PUT", "/files/me/sub/f.txt", b"x"), ("PUT", "/files/me/sub", b"x"),
    ("GET", "/files/me/sub", None), ("DELETE", "/files/me/sub", None),
]


def test_every_answer_is_the_folder_stores(both: tuple[TestClient, TestClient]) -> None:
    folder, bucket = both
    for method, url, body in CASES:
        if method == "PUT" and body is None:
            body = b"x"
        answers = [c.request(method, url, content=body) for c in (folder, bucket)]
        assert answers[0].status_code == answers[1].status_code, (method, url, answers[1].text)
        assert answers[0].content == answers[1].content, (method, url)
    listings = [[(e["name"], e["size"]) for e in c.get("/files/me").json()] for c in both]
    assert listings[0] == listings[1] == [("a.txt", 1), ("c", 4000), ("d", 4000),
                                          ("sub/f.txt", 1)]


def test_files_inside_the_results_prefix_are_refused(s3_endpoint: str, s3_credentials: None,
                                                     tmp_path: Path) -> None:
    bucket = new_bucket(s3_endpoint, "files")
    settings = Settings(data_dir=tmp_path, catalogs=(_catalog(tmp_path),),
                        results=f"s3://{bucket}/prod?endpoint_url={s3_endpoint}",
                        files_dir=f"s3://{bucket}/prod/files?endpoint_url={s3_endpoint}")
    with pytest.raises(StoreConfigInvalid, match="overlap"):
        with TestClient(create_app(settings)):
            pass


def test_an_unreachable_bucket_is_503(s3_credentials: None,
                                                         tmp_path: Path) -> None:
    with s3_server() as endpoint:  # a server of its own, stopped mid-test
        bucket = new_bucket(endpoint, "files")
        settings = Settings(data_dir=tmp_path, catalogs=(_catalog(tmp_path),),
                            files_dir=f"s3://{bucket}/u?endpoint_url={endpoint}")
        app = TestClient(create_app(settings))
        app.__enter__()
    try:
        for method, url in (("GET", "/files/me"), ("GET", "/files/me/a.txt")):
            response = app.request(method, url, content=b"x" if method == "PUT" else None)
            assert response.status_code == 503, (method, url, response.text)
            assert "retry shortly" in response.json()["message"]
            assert bucket in response.json()["message"]
    finally:
        app.__exit__(None, None, None)


def test_openeo_files_endpoints_on_two_servers(
    pair: tuple[httpx.Client, httpx.Client, Any, str]
) -> None:
    a, b, fs, bucket = pair
    body = b'{"type": "FeatureCollection", "features": []}'
    put = a.put("/openeo/1.2/files/zones/z.geojson", content=body)
    assert put.status_code == 200, put.text
    assert (put.json()["path"], put.json()["size"]) == ("zones/z.geojson", len(body))
    assert b.get("/openeo/1.2/files/zones/z.geojson").content == body
    assert [f["path"] for f in b.get("/openeo/1.2/files").json()["files"]] == ["zones/z.geojson"]
    assert fs.cat(f"{bucket}/users/local/zones/z.geojson") == body
    missing = b.get("/openeo/1.2/files/nope.json")
    assert missing.status_code == 404 and missing.json()["code"] == "FileNotFound"
    hostile = b.put("/openeo/1.2/files/%2E%2E/escape", content=b"x")
    assert hostile.status_code == 400 and hostile.json()["code"] == "FilePathInvalid"
    assert b.delete("/openeo/1.2/files/zones/z.geojson").status_code == 204
    assert a.get("/openeo/1.2/files/zones/z.geojson").status_code == 404
