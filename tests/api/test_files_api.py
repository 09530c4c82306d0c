"""The user-file API: upload/download round trips, listing, deletion, hostile paths, limits;
with the files in a folder and in an S3 bucket (a real S3-compatible server)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from affine import Affine
from starlette.testclient import TestClient

from ondemand.settings import Settings
from services import create_app
from tests.support.cogs import make_collection
from tests.support.s3 import new_bucket, s3_environment

MAX_FILE = 4096
QUOTA = 10_000


@pytest.fixture(scope="module", params=["folder", "bucket"])
def api(request: pytest.FixtureRequest,
        tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """An app on a one-item catalog with small file limits, its files in a folder or a
    bucket."""
    root = tmp_path_factory.mktemp("files_api")
    band = (np.ones((4, 4), dtype=np.uint16), 0.0, 1.0, 0.0)
    catalog = make_collection(root / "tiny", [("i1", datetime(2020, 1, 1, tzinfo=UTC),
                                               {"B1": band})], 32633,
                              Affine(10, 0, 500000, 0, -10, 5000000))
    with ExitStack() as stack:
        files_dir = None
        if request.param == "bucket":
            endpoint = request.getfixturevalue("s3_endpoint")
            stack.enter_context(s3_environment())
            bucket = new_bucket(endpoint, "files")
            files_dir = f"s3://{bucket}/users?endpoint_url={endpoint}"
        settings = Settings(data_dir=root / "data", catalogs=(catalog,), max_file_bytes=MAX_FILE,
                            user_quota_bytes=QUOTA, files_dir=files_dir)
        with TestClient(create_app(settings)) as client:
            yield client


@pytest.fixture(autouse=True)
def empty_folder(api: TestClient) -> Iterator[None]:
    yield
    for entry in api.get("/files/me").json():
        api.delete(f"/files/me/{entry['name']}")


PREFIXES = {"files": "/files/me", "users": "/users/me/files", "own-id": "/files/local"}


@pytest.mark.parametrize("prefix", PREFIXES.values(), ids=PREFIXES.keys())
def test_round_trip_is_byte_exact(api: TestClient, prefix: str) -> None:
    payload = bytes(np.random.default_rng(7).integers(0, 256, 3000, dtype=np.uint8))
    put = api.put(f"{prefix}/sub/data.bin", content=payload)
    assert put.status_code == 204, put.text
    got = api.get(f"{prefix}/sub/data.bin")
    assert got.status_code == 200
    assert hashlib.sha256(got.content).hexdigest() == hashlib.sha256(payload).hexdigest()
    listing = api.get(prefix).json()
    assert [(e["name"], e["size"]) for e in listing] == [("sub/data.bin", 3000)]
    assert datetime.fromisoformat(listing[0]["modified"].replace("Z", "+00:00")).year >= 2024
    head = api.head(f"{prefix}/sub/data.bin")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == "3000" and head.headers["accept-ranges"] == "bytes"
    for spec, expected in (("bytes=0-99", payload[:100]), ("bytes=2990-", payload[2990:]),
                           ("bytes=-10", payload[-10:])):
        part = api.get(f"{prefix}/sub/data.bin", headers={"Range": spec})
        assert part.status_code == 206 and part.content == expected, spec
    assert 'filename="data.bin"' in got.headers["content-disposition"]


def test_multipart_upload_as_in_the_draft(api: TestClient) -> None:
    payload = b'{"type": "Point", "coordinates": [1, 2]}'
    put = api.put("/users/me/files/polygon1.json", files={"file": ("p.json", payload)})
    assert put.status_code == 204, put.text
    assert api.get("/users/me/files/polygon1.json").content == payload


def test_multipart_without_file_field(api: TestClient) -> None:
    put = api.put("/files/me/x.json", files={"other": ("p.json", b"{}")})
    assert put.status_code == 400
    assert "file" in put.json()["message"]
    assert api.get("/files/me").json() == []


def test_delete(api: TestClient) -> None:
    api.put("/files/me/a.txt", content=b"a")
    assert api.delete("/files/me/a.txt").status_code == 204
    assert api.get("/files/me/a.txt").status_code == 404
    assert api.delete("/files/me/a.txt").status_code == 404


def test_other_users_files_are_not_found(api: TestClient) -> None:
    assert api.put("/files/bob/a.txt", content=b"a").status_code == 404
    assert api.get("/files/bob").status_code == 404


HOSTILE_URLS = {
    "dotdot-encoded": "/files/me/%2e%2e/%2e%2e/etc/passwd",
    "dotdot-in-path": "/files/me/a/%2E%2E/%2E%2E/x",
    "double-encoded": "/files/me/%252e%252e/x",
    "absolute": "/files/me//etc/passwd",
    "backslash": "/files/me/..%5C..%5Cx",
    "nul": "/files/me/a%00.txt",
    "control": "/files/me/a%0Ab",
    "hidden-temp": "/files/me/.upload-x.tmp",
    "long-name": "/files/me/" + "a" * 300,
    "folder": "/files/me/sub/",
}


@pytest.mark.parametrize("url", HOSTILE_URLS.values(), ids=HOSTILE_URLS.keys())
@pytest.mark.parametrize("method", ["PUT", "GET", "DELETE"])
def test_hostile_paths_are_400(api: TestClient, url: str, method: str) -> None:
    response = api.request(method, url, content=b"x" if method == "PUT" else None)
    assert response.status_code == 400, (response.status_code, response.text)
    assert api.get("/files/me").json() == []


@pytest.mark.parametrize("api", ["folder"], indirect=True)  # a bucket has no symlinks
def test_symlink_escape_is_400(api: TestClient, tmp_path: Path) -> None:
    data_dir = Path(api.app.state.ondemand.settings.data_dir)  # type: ignore[attr-defined]
    (tmp_path / "secret.txt").write_text("secret")
    root = data_dir / "files" / "local"
    root.mkdir(parents=True, exist_ok=True)
    (root / "escape").symlink_to(tmp_path)
    try:
        assert api.get("/files/me/escape/secret.txt").status_code == 400
        assert api.put("/files/me/escape/new.txt", content=b"x").status_code == 400
        assert not (tmp_path / "new.txt").exists()
    finally:
        (root / "escape").unlink()


SIZES = {"declared": lambda: {"content": b"x" * (MAX_FILE + 1)},
         "streamed": lambda: {"content": iter([b"x" * 3000, b"x" * 3000])},
         "multipart": lambda: {"files": {"file": ("big.bin", b"x" * (MAX_FILE + 100_000))}}}
"""Request bodies over the limit (made afresh for each backend: a stream is read once)."""


@pytest.mark.parametrize("body", SIZES.values(), ids=SIZES.keys())
def test_file_over_the_size_limit_is_413(api: TestClient,
                                         body: Callable[[], dict[str, object]]) -> None:
    response = api.put("/files/me/big.bin", **body())  # type: ignore[arg-type]
    assert response.status_code == 413
    assert response.json()["code"] == 1411
    assert api.get("/files/me").json() == []


def test_quota_is_413_and_keeps_the_old_files(api: TestClient) -> None:
    for name in ("a", "b"):
        assert api.put(f"/files/me/{name}", content=b"x" * 4000).status_code == 204
    response = api.put("/files/me/c", content=b"x" * 2500)
    assert response.status_code == 413
    assert response.json()["code"] == 507
    assert sorted(e["name"] for e in api.get("/files/me").json()) == ["a", "b"]
