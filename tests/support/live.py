"""A real server on 127.0.0.1 for clients that need sockets (GDAL, OWSLib, browsers)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import uvicorn

from ondemand.demo import ensure_demo_catalog
from ondemand.settings import Settings
from services import create_app
from services.cli import uvicorn_config


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def live_server(settings: Settings) -> Iterator[str]:
    """Serve the app of ``settings`` in a thread, configured as ``ondemand serve`` runs it,
    on a free loopback port; yield its base URL; stop it afterwards."""
    settings = replace(settings, host="127.0.0.1", port=free_port())
    server = uvicorn.Server(uvicorn_config(create_app(settings), settings, "warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{settings.port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def live_demo_server(data_dir: Path, demo_data_dir: Path) -> Iterator[str]:
    """:func:`live_server` on the demo catalog (generated once in ``demo_data_dir``) with
    its own ``data_dir``; yield its base URL."""
    settings = Settings(data_dir=data_dir, catalogs=tuple(ensure_demo_catalog(demo_data_dir)))
    with live_server(settings) as url:
        yield url
