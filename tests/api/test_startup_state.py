"""Start-up on damaged state files: disposable ones heal, the job store refuses clearly.

Login tokens live in the job store (:mod:`ondemand.store`), so they share its fate."""

from __future__ import annotations

import logging
import shutil
import sqlite3
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from ondemand.cache import TileCache
from ondemand.demo import ensure_demo_catalog
from ondemand.errors import StateInvalid
from ondemand.jobs import JobStore
from ondemand.settings import Settings
from services import create_app
from services.cli import main

GARBAGE = bytes(range(256)) * 64


def _settings(data_dir: Path, demo_data_dir: Path) -> Settings:
    return Settings(data_dir=data_dir, catalogs=tuple(ensure_demo_catalog(demo_data_dir)))


def _damage_pages(path: Path) -> None:
    """Overwrite everything after SQLite's 100-byte header: 'database disk image is malformed'."""
    size = path.stat().st_size
    with open(path, "r+b") as handle:
        handle.seek(100)
        handle.write(b"\xa5" * (size - 100))


def _filled_tile_cache(directory: Path) -> None:
    cache = TileCache(directory, 10_000_000)
    for i in range(50):
        cache.set(f"k{i}", b"x" * 100)
    cache.close()


@pytest.mark.parametrize("damage", ["garbage", "pages"])
def test_corrupt_tile_cache_index_is_set_aside_and_recreated(
    tmp_path: Path, damage: str, caplog: pytest.LogCaptureFixture
) -> None:
    directory = tmp_path / "cache" / "tiles"
    _filled_tile_cache(directory)
    index = directory / "cache.db"
    if damage == "garbage":
        index.write_bytes(GARBAGE)
    else:
        _damage_pages(index)
    with pytest.raises(sqlite3.DatabaseError):
        sqlite3.connect(index).execute("SELECT count(*) FROM Cache").fetchone()
    with caplog.at_level(logging.WARNING, logger="ondemand.healing"):
        cache = TileCache(directory, 10_000_000)
    try:
        assert len(cache) == 0
        cache.set("fresh", b"tile")
        assert cache.get("fresh") == b"tile"
    finally:
        cache.close()
    aside = [p for p in (tmp_path / "cache").iterdir() if p.name.startswith("tiles.corrupt-")]
    assert len(aside) == 1 and (aside[0] / "cache.db").exists()
    assert any("moved aside" in r.getMessage() for r in caplog.records)


def test_readable_tile_cache_is_kept(tmp_path: Path) -> None:
    directory = tmp_path / "tiles"
    _filled_tile_cache(directory)
    cache = TileCache(directory, 10_000_000)
    try:
        assert len(cache) == 50
    finally:
        cache.close()
    assert [p.name for p in tmp_path.iterdir() if "corrupt" in p.name] == []


def test_server_starts_on_a_corrupt_tile_cache(tmp_path: Path, demo_data_dir: Path) -> None:
    settings = _settings(tmp_path, demo_data_dir)
    (tmp_path / "cache" / "tiles").mkdir(parents=True)
    (tmp_path / "cache" / "tiles" / "cache.db").write_bytes(GARBAGE)
    with TestClient(create_app(settings)) as client:
        assert client.get("/collections").status_code == 200
        tile = client.get("/collections/S2_L2A_T32TPS_20M/tiles/WebMercatorQuad/10/543/363.png"
                          "?bands=B04")
        assert tile.status_code in (200, 204, 404), tile.text


def _job_store_with_a_job(path: Path) -> None:
    store = JobStore(path)
    store.create_job("alice", {"process_id": "max_time", "args": {}}, title="kept")
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")


@pytest.mark.parametrize("damage", ["garbage", "pages", "emptied"])
def test_damaged_job_store_refuses_with_the_file_and_recovery(tmp_path: Path,
                                                             damage: str) -> None:
    path = tmp_path / "jobs.sqlite"
    _job_store_with_a_job(path)
    if damage == "garbage":
        path.write_bytes(GARBAGE)
    elif damage == "pages":
        _damage_pages(path)
    else:
        path.write_bytes(b"")
    before = path.read_bytes()
    with pytest.raises(StateInvalid) as info:
        JobStore(path)
    assert str(path) in info.value.message and ".recover" in info.value.message
    assert path.read_bytes() == before, "the damaged store is left as it was"


def test_missing_job_store_is_created(tmp_path: Path) -> None:
    path = tmp_path / "jobs.sqlite"
    assert JobStore(path).list_jobs("alice") == []
    assert path.stat().st_size > 0


def test_serve_on_a_damaged_job_store_exits_with_a_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "jobs.sqlite"
    _job_store_with_a_job(path)
    _damage_pages(path)
    status = main(["serve", "--data-dir", str(tmp_path), "--port", "1"])
    err = capsys.readouterr().err
    assert status == 2
    assert "Traceback" not in err and str(path) in err and "sqlite3" in err


def test_job_store_survives_a_copy(tmp_path: Path) -> None:
    """A healthy store copied elsewhere opens with its job (the check reads, never writes)."""
    path = tmp_path / "a" / "jobs.sqlite"
    _job_store_with_a_job(path)
    copy = tmp_path / "b" / "jobs.sqlite"
    copy.parent.mkdir()
    shutil.copy(path, copy)
    JobStore(copy)
    with sqlite3.connect(copy) as db:
        assert db.execute("SELECT title FROM jobs").fetchall() == [("kept",)]


def _ready(_: int) -> int:
    """A pool worker that has imported the store (so the races start together)."""
    import ondemand.store.sqlite  # noqa: F401

    return 1


def _open_store(path: str) -> int:
    from ondemand.store.sqlite import SQLiteDatabase

    SQLiteDatabase(Path(path))
    return 1


def test_processes_starting_together_on_a_new_store_all_start(tmp_path: Path) -> None:
    """``--workers N`` on a first start: no process sees the file half-created as damaged."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # Spawned, not forked: a fork of this threaded test process (live servers, Dask) can
    # inherit a held lock and hang. The workers start (and import) before the races.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(6, mp_context=context) as pool:
        assert sum(pool.map(_ready, range(6))) == 6
        for attempt in range(5):
            path = tmp_path / f"run{attempt}" / "jobs.sqlite"
            assert sum(pool.map(_open_store, [str(path)] * 6)) == 6
            assert JobStore(path).list_jobs("alice") == []
