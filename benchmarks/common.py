"""Benchmark helpers: a real server on 127.0.0.1, timing, the demo data."""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Server:
    """A server process started for a benchmark."""

    url: str
    pid: int


@contextmanager
def http_process(
    command: list[str], port: int, health_path: str = "/", env: dict[str, str] | None = None
) -> Iterator[Server]:
    """Run ``command`` (an HTTP server on ``port``), wait until ``health_path`` answers 200."""
    process = subprocess.Popen(
        command, cwd=ROOT, env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}{health_path}", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        else:
            raise RuntimeError(f"server {command[:4]} did not start")
        yield Server(base, process.pid)
    finally:
        process.terminate()
        process.wait(timeout=30)


@contextmanager
def running_server(data_dir: Path, *extra: str) -> Iterator[Server]:
    """Start ``ondemand serve`` on 127.0.0.1 and yield it; stop it afterwards."""
    port = free_port()
    command = [sys.executable, "-m", "services.cli", "serve", "--port", str(port),
               "--data-dir", str(data_dir), "--log-level", "warning", *extra]  # fmt: skip
    with http_process(command, port) as server:
        yield server


def rss_bytes(pid: int) -> int:
    """Resident memory of a process (Linux ``/proc``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    """Wall-clock seconds of ``repeat`` calls of ``fn``."""
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def p50(samples: list[float]) -> float:
    """The median."""
    return statistics.median(samples)
