"""User file storage: path confinement, atomic writes, size limit and quota."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ondemand.errors import FilePathInvalid, FileTooLarge, QuotaExceeded, ResourceNotFound
from ondemand.userfiles import TEMP_PREFIX, UserFiles, check_path, check_user_id


@pytest.fixture
def files(tmp_path: Path) -> UserFiles:
    return UserFiles.of(tmp_path, "alice", max_file_bytes=1000, quota_bytes=2500)


HOSTILE = {
    "parent": "../bob/secret.txt",
    "parent-inside": "a/../../x",
    "dot": "./x",
    "absolute": "/etc/passwd",
    "drive": "C:/windows/x",
    "backslash": "a\\..\\x",
    "nul": "a\x00.txt",
    "control": "a\nb",
    "double-encoded-dots": "%2e%2e/x",
    "encoded-slash": "a%2Fb",
    "empty-segment": "a//b",
    "trailing-slash": "a/",
    "empty": "",
    "hidden": ".upload-123.tmp",
    "long-segment": "a" * 256,
    "long-path": "/".join(["abcdefghij"] * 100),
}


@pytest.mark.parametrize("path", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_paths_are_rejected(files: UserFiles, path: str) -> None:
    with pytest.raises(FilePathInvalid):
        check_path(path)
    with pytest.raises(FilePathInvalid):
        files.resolve(path)


@pytest.mark.parametrize("path", ["a.geojson", "sub/dir/b.gpkg", "ünïcode ok.json",
                                  "a" * 255], ids=["flat", "nested", "unicode", "max-segment"])
def test_good_paths_stay_inside(files: UserFiles, path: str) -> None:
    resolved = files.resolve(path)
    assert resolved.is_relative_to(files.root)
    assert resolved.relative_to(files.root).as_posix() == path


@pytest.mark.parametrize("user", ["..", ".", "a/b", "", "x" * 65, "a\x00"],
                         ids=["dotdot", "dot", "slash", "empty", "long", "nul"])
def test_bad_user_ids(user: str) -> None:
    with pytest.raises(FilePathInvalid):
        check_user_id(user)


def test_symlink_inside_the_folder_is_not_followed(files: UserFiles, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("secret")
    files.root.mkdir(parents=True)
    os.symlink(outside, files.root / "link")
    with pytest.raises(FilePathInvalid):
        files.file("link/secret.txt")
    with pytest.raises(FilePathInvalid):
        files.write("link/new.txt", [b"x"])
    assert not (outside / "new.txt").exists()


def test_write_read_list_delete(files: UserFiles) -> None:
    payload = bytes(range(256)) * 3
    info = files.write("sub/data.bin", [payload[:100], payload[100:]])
    assert (info.name, info.size) == ("sub/data.bin", len(payload))
    assert files.file("sub/data.bin").read_bytes() == payload
    assert [(f.name, f.size) for f in files.listing()] == [("sub/data.bin", len(payload))]
    files.delete("sub/data.bin")
    assert files.listing() == []
    assert not (files.root / "sub").exists()
    with pytest.raises(ResourceNotFound):
        files.file("sub/data.bin")


def test_file_size_limit_leaves_nothing_behind(files: UserFiles) -> None:
    files.write("keep.txt", [b"old"])
    with pytest.raises(FileTooLarge):
        files.write("keep.txt", [b"x" * 600, b"x" * 600])
    assert files.file("keep.txt").read_bytes() == b"old"
    assert not list(files.root.rglob(TEMP_PREFIX + "*"))


def test_quota_counts_other_files_but_not_the_replaced_one(files: UserFiles) -> None:
    files.write("a.bin", [b"a" * 1000])
    files.write("b.bin", [b"b" * 1000])
    with pytest.raises(QuotaExceeded):
        files.write("c.bin", [b"c" * 600])
    files.write("b.bin", [b"B" * 1000])  # replacing keeps the total at 2000
    assert sorted(f.name for f in files.listing()) == ["a.bin", "b.bin"]
    assert files.used_bytes() == 2000


def test_half_written_upload_is_invisible(files: UserFiles) -> None:
    files.write("f.txt", [b"first"])
    upload = files.begin("f.txt")
    upload.write(b"second, half")
    assert files.file("f.txt").read_bytes() == b"first"
    assert [f.name for f in files.listing()] == ["f.txt"]
    upload.abort()
    assert files.file("f.txt").read_bytes() == b"first"


def test_a_file_cannot_become_a_folder(files: UserFiles) -> None:
    files.write("x", [b"1"])
    with pytest.raises(FilePathInvalid):
        files.write("x/y", [b"2"])
