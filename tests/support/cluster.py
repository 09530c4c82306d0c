"""Several servers as several hosts (:mod:`tests.support.netns`): ``ondemand serve``
processes in their own network namespaces, or on 127.0.0.2, 127.0.0.3, ...

Each server has its own data dir (so its own tile cache and node id) and shares the
PostgreSQL store, the results folder, the users' files folder and one Dask cluster
(``dask scheduler`` plus ``dask worker`` processes) with the others, as machines behind
a load balancer do. Every process is started here and stopped (or killed) here.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import morecantile
import psutil
from distributed import Client
from rasterio.warp import transform_bounds

from tests.support.batchdata import ROOT, child_env, free_port, wait_until_serving


def stop_processes(processes: list[subprocess.Popen[bytes]], timeout: float = 20) -> None:
    """Terminate processes and their children; kill what is left after ``timeout``."""
    tree: list[psutil.Process] = []
    for process in processes:
        try:
            parent = psutil.Process(process.pid)
            tree += [parent, *parent.children(recursive=True)]
        except psutil.NoSuchProcess:
            continue
    for process in processes:
        if process.poll() is None:
            process.terminate()
    _, alive = psutil.wait_procs(tree, timeout=timeout)
    for leftover in alive:
        leftover.kill()
    for process in processes:
        process.wait(10)


@contextmanager
def dask_cluster(workers: int = 2, host: str = "127.0.0.1") -> Iterator[str]:
    """``dask scheduler`` and ``workers`` ``dask worker`` processes (one thread each)."""
    port = free_port()
    address = f"tcp://{host}:{port}"
    processes = [subprocess.Popen(
        [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", host,
         "--port", str(port), "--no-dashboard"],
        env=child_env(), cwd=ROOT, stderr=subprocess.DEVNULL,
    )]
    try:
        for _ in range(workers):
            processes.append(subprocess.Popen(
                [sys.executable, "-m", "distributed.cli.dask_worker", address, "--nthreads", "1",
                 "--no-dashboard", "--host", host],
                env=child_env(), cwd=ROOT, stderr=subprocess.DEVNULL,
            ))
        wait_for_workers(address, workers)
        yield address
    finally:
        stop_processes(processes)


def wait_for_workers(address: str, count: int, timeout: float = 60) -> None:
    """Block until the scheduler at ``address`` has ``count`` workers."""
    with Client(address, timeout=timeout) as client:
        client.wait_for_workers(count, timeout=timeout)


@dataclass(frozen=True)
class Shared:
    """What the servers of one deployment share."""

    store: str
    results: Path
    files: Path
    dask: str
    catalog: Path


class Host:
    """One server on its own address (and namespace, with ``prefix``) and its own data dir."""

    def __init__(
        self, address: str, data_dir: Path, shared: Shared, prefix: tuple[str, ...] = (),
        **env: str,
    ) -> None:
        self.address = address
        self.port = free_port()
        self.data_dir = data_dir
        self.url = f"http://{address}:{self.port}"
        command = [
            *prefix, sys.executable, "-m", "services.cli", "serve", "--host", address,
            "--port", str(self.port), "--data-dir", str(data_dir), "--catalog",
            str(shared.catalog), "--store", shared.store, "--results", str(shared.results),
            "--files-dir", str(shared.files), "--dask-scheduler", shared.dask,
            "--log-level", "warning",
        ]
        if not address.startswith("127."):
            command.append("--insecure")  # a private test network without user accounts
        self.process = subprocess.Popen(
            command, env=child_env(**env), cwd=ROOT, stdout=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.http = httpx.Client(base_url=self.url, timeout=60)
        try:
            wait_until_serving(self.http, self.process, 90)
        except RuntimeError:
            self.stop()
            raise

    @property
    def node(self) -> str:
        """The node id in this server's lease owner names."""
        return (self.data_dir / "node-id").read_text().strip()

    def kill(self) -> None:
        """SIGKILL the server (no shutdown of any kind, as when a machine dies)."""
        self.http.close()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(30)

    def stop(self) -> None:
        """Stop the server as its service manager would."""
        self.http.close()
        stop_processes([self.process])


def tiles_over_the_data(zoom: int) -> list[morecantile.Tile]:
    """The web-mercator tiles over the test series (``batchdata.make_series``)."""
    west, south, east, north = transform_bounds("EPSG:32633", "EPSG:4326",
                                                500000, 3997000, 504000, 4000000)
    tms = morecantile.tms.get("WebMercatorQuad")
    return list(tms.tiles(west, south, east, north, [zoom]))
