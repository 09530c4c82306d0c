"""``ondemand serve --workers 2``: several processes share the job store and the cache."""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import psutil
import pytest

from ondemand.accounts import AccountFile
from ondemand.demo import ensure_demo_catalog
from ondemand.settings import Settings
from tests.support.live import free_port
from tests.support.seed import use_case_1_job

ROOT = Path(__file__).resolve().parents[2]


def _children(pid: int) -> list[int]:
    """Processes whose parent is ``pid``."""
    return [child.pid for child in psutil.Process(pid).children()]


@contextmanager
def serving(data_dir: Path, catalogs: list[Path], *extra: str,
            env: dict[str, str] | None = None) -> Iterator[tuple[str, int]]:
    """``ondemand serve --workers 2`` on a free loopback port; its URL and process id."""
    port = free_port()
    command = [sys.executable, "-m", "services.cli", "serve", "--workers", "2",
               "--port", str(port), "--data-dir", str(data_dir), "--log-level", "warning",
               *extra]  # fmt: skip
    for path in catalogs:
        command += ["--catalog", str(path)]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL,
                               start_new_session=True, env={**os.environ, **(env or {})})
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 240  # a loaded machine starts two workers slowly
        while True:
            try:
                if httpx.get(f"{base}/data", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert process.poll() is None and time.monotonic() < deadline, "server did not start"
            time.sleep(0.2)
        yield base, process.pid
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture(scope="module")
def server(
    demo_data_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, int]]:
    with serving(tmp_path_factory.mktemp("workers"), ensure_demo_catalog(demo_data_dir)) as s:
        yield s


def test_two_worker_processes_serve(server: tuple[str, int]) -> None:
    _, pid = server
    deadline = time.monotonic() + 30
    while len(_children(pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert len(_children(pid)) >= 2


def test_concurrent_submissions_land_in_one_store(server: tuple[str, int]) -> None:
    base, _ = server

    def submit(_: int) -> str:
        response = httpx.post(f"{base}/jobs", json=use_case_1_job(), timeout=60)
        assert response.status_code == 200, response.text
        return str(response.json()["job_id"])

    with ThreadPoolExecutor(8) as pool:
        ids = list(pool.map(submit, range(40)))
    assert len(set(ids)) == 40
    listed = {j["job_id"] for j in httpx.get(f"{base}/jobs", timeout=60).json()}
    assert set(ids) <= listed
    with httpx.Client(base_url=base, timeout=60) as client:  # new connections: any worker
        for job_id in ids[:10]:
            assert client.get(f"/jobs/{job_id}").json()["job_id"] == job_id


def test_tiles_are_identical_from_every_worker(server: tuple[str, int]) -> None:
    base, _ = server
    job_id = httpx.post(f"{base}/jobs", json=use_case_1_job(), timeout=60).json()["job_id"]
    service = httpx.post(f"{base}/services", json={"job_id": job_id, "type": "xyz"}, timeout=60)
    url = f"{service.json()['service_url']}/12/2174/1446.png"  # inside the job's bbox

    def fetch(_: int) -> bytes:
        with httpx.Client(timeout=60) as client:  # a fresh connection each time
            response = client.get(url)
            assert response.status_code == 200, response.text
            return response.content

    with ThreadPoolExecutor(4) as pool:
        tiles = list(pool.map(fetch, range(12)))
    assert len(set(tiles)) == 1 and len(tiles[0]) > 10_000  # a real picture, not an empty tile


def test_settings_survive_the_trip_to_the_workers(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path, catalogs=(tmp_path / "a.json", tmp_path / "b.json"), demo=True,
        max_pixels=123, eval_timeout_seconds=1.5, users_file=tmp_path / "u.json",
        trusted_proxies=("10.0.0.0/8", "::1"), cors_origins=("https://a.example",),
        public_url="https://maps.example.org", login_max_failures=7,
    )  # fmt: skip
    assert Settings.from_env(settings.to_env()) == Settings(
        **{**settings.__dict__, "host": Settings().host, "port": Settings().port}
    )


def test_failed_logins_are_counted_across_worker_processes(
    demo_data_dir: Path, tmp_path: Path
) -> None:
    """Guesses on fresh connections reach both processes; the limit holds for the sum."""
    users = tmp_path / "users.json"
    AccountFile(users).add("alice", "correct horse battery")
    wrong = base64.b64encode(b"alice:wrong guess").decode()
    with serving(tmp_path / "data", ensure_demo_catalog(demo_data_dir), "--users", str(users),
                 env={"ONDEMAND_LOGIN_MAX_FAILURES": "4"}) as (base, pid):
        deadline = time.monotonic() + 30
        while len(_children(pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        statuses = []
        for _ in range(12):
            with httpx.Client(timeout=60) as client:  # a fresh connection each time
                response = client.get(f"{base}/jobs", headers={"Authorization": f"Basic {wrong}"})
                statuses.append(response.status_code)
    assert statuses == [403] * 4 + [429] * 8, statuses
