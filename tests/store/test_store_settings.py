"""The store, results and files options: flags, environment, and the worker round trip."""

from __future__ import annotations

from pathlib import Path

import pytest

from ondemand.errors import StoreConfigInvalid
from ondemand.settings import Settings
from ondemand.store import open_database
from ondemand.store.sqlite import SQLiteDatabase
from ondemand.userfiles import LocalFileRoot, open_files
from services.cli import build_parser, settings_from_args
from services.ranges import parse_range


def test_flags_and_environment_reach_the_settings(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ONDEMAND_STORE", "postgresql://env@db/ondemand")
    monkeypatch.setenv("ONDEMAND_BATCH_LEASE_SECONDS", "7.5")
    args = build_parser().parse_args([
        "serve", "--data-dir", str(tmp_path), "--results", "s3://bucket/prefix",
        "--files-dir", str(tmp_path / "shared"),
    ])
    settings = settings_from_args(args)
    assert settings.store == "postgresql://env@db/ondemand"
    assert settings.results == "s3://bucket/prefix"
    assert settings.files_root == tmp_path / "shared"
    assert settings.batch_lease_seconds == 7.5
    flag = build_parser().parse_args(["serve", "--store", "postgresql://flag@db/x"])
    assert settings_from_args(flag).store == "postgresql://flag@db/x"  # the flag wins
    assert Settings.from_env(settings.to_env()) == settings  # what --workers N children get


def test_defaults_stay_under_the_data_dir(tmp_path: Path) -> None:
    settings = Settings.from_env({}, data_dir=tmp_path)
    assert (settings.store, settings.results) == (None, None)
    assert settings.files_root == tmp_path / "files"
    database = open_database(settings.store, tmp_path)
    assert isinstance(database, SQLiteDatabase) and database.path == tmp_path / "jobs.sqlite"


def test_files_locations_take_the_forms_of_results(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    location = "s3://files-bucket/users?endpoint_url=http://127.0.0.1:9"
    monkeypatch.setenv("ONDEMAND_FILES_DIR", location)
    settings = settings_from_args(build_parser().parse_args(["serve", "--data-dir",
                                                             str(tmp_path)]))
    assert settings.files_dir == location
    assert Settings.from_env(settings.to_env()) == settings
    flag = build_parser().parse_args(["serve", "--files-dir", f"file://{tmp_path}/shared"])
    assert settings_from_args(flag).files_root == tmp_path / "shared"
    database = SQLiteDatabase(tmp_path / "jobs.sqlite")
    try:
        for given in (f"file://{tmp_path}/shared", str(tmp_path / "shared"), None):
            root = open_files(given, tmp_path, database)
            assert isinstance(root, LocalFileRoot)
            assert root.folder == tmp_path / ("shared" if given else "files")
        for bad, message in (("ftp://host/x", "Unknown files location"),
                             ("s3:///x", "names no bucket"),
                             ("s3://b/x?secret=1", "Unknown options")):
            with pytest.raises(StoreConfigInvalid, match=message):
                open_files(bad, tmp_path, database)
    finally:
        database.close()


@pytest.mark.parametrize("location", ["mysql://u@h/db", "redis://h"])
def test_unknown_stores_are_refused(tmp_path: Path, location: str) -> None:
    with pytest.raises(StoreConfigInvalid, match="Unknown store"):
        open_database(location, tmp_path)


@pytest.mark.parametrize(
    ("header", "size", "expected"),
    [
        pytest.param(None, 100, None, id="none"),
        pytest.param("bytes=0-9", 100, (0, 10), id="first-ten"),
        pytest.param("bytes=90-", 100, (90, 100), id="open-end"),
        pytest.param("bytes=-5", 100, (95, 100), id="suffix"),
        pytest.param("bytes=-500", 100, (0, 100), id="suffix-longer-than-file"),
        pytest.param("bytes=50-5000", 100, (50, 100), id="end-past-size"),
        pytest.param("bytes=100-", 100, False, id="start-at-size"),
        pytest.param("bytes=9-3", 100, False, id="inverted"),
        pytest.param("bytes=-0", 100, False, id="empty-suffix"),
        pytest.param("bytes=0-1,5-6", 100, None, id="several-ranges-whole-file"),
        pytest.param("items=0-9", 100, None, id="other-unit-whole-file"),
        pytest.param("bytes=-", 100, None, id="malformed"),
    ],
)
def test_range_headers(header: str | None, size: int,
                       expected: tuple[int, int] | None | bool) -> None:
    assert parse_range(header, size) == expected
