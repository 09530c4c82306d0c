"""Connection time-outs of ``ondemand serve``: stalled headers, stalled bodies, idle keep-alive.

A real server (the options ``ondemand serve`` uses) on loopback, raw sockets as clients.
The time-outs are shortened for the run; the mechanism is the one deployed.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from ondemand.settings import Settings
from services import cli
from services.cli import uvicorn_options
from services.connection import BODY_IDLE_SECONDS, HEADER_SECONDS, TimedH11Protocol
from tests.support.live import live_server

SHORT = 1.5
"""Header and body time-out during these tests (seconds)."""


@pytest.fixture(scope="module")
def address(demo_data_dir: Path) -> Iterator[tuple[str, int]]:
    patch = pytest.MonkeyPatch()
    patch.setattr(TimedH11Protocol, "header_seconds", SHORT)
    patch.setattr(TimedH11Protocol, "body_idle_seconds", SHORT)
    patch.setattr(cli, "KEEP_ALIVE_SECONDS", 1)
    try:
        with live_server(Settings(data_dir=demo_data_dir, demo=True)) as url:
            parts = urlsplit(url)
            yield parts.hostname or "", parts.port or 80
    finally:
        patch.undo()


def _closed_after(sock: socket.socket, limit: float) -> float:
    """Seconds until the server closes ``sock`` (reading and discarding what it sends)."""
    start = time.monotonic()
    sock.settimeout(limit)
    while sock.recv(4096):
        pass
    return time.monotonic() - start


def test_serve_sets_the_timeouts_explicitly() -> None:
    options = uvicorn_options(Settings(), "info")
    assert options["http"] is TimedH11Protocol
    assert options["timeout_keep_alive"] == cli.KEEP_ALIVE_SECONDS == 5
    assert options["h11_max_incomplete_event_size"] == 64 * 1024
    assert options["proxy_headers"] is False
    assert options["timeout_worker_healthcheck"] == 30
    assert (HEADER_SECONDS, BODY_IDLE_SECONDS) == (10.0, 30.0)


def test_half_a_request_line_is_closed_in_time(address: tuple[str, int]) -> None:
    with socket.create_connection(address) as sock:
        sock.sendall(b"GET /da")
        waited = _closed_after(sock, SHORT + 5)
    assert SHORT * 0.8 <= waited <= SHORT + 2


def test_a_silent_connection_is_closed_in_time(address: tuple[str, int]) -> None:
    with socket.create_connection(address) as sock:
        waited = _closed_after(sock, SHORT + 5)
    assert waited <= SHORT + 2


def test_trickled_headers_are_closed_although_bytes_keep_coming(
    address: tuple[str, int],
) -> None:
    request = b"GET /data HTTP/1.1\r\nHost: 127.0.0.1\r\n" + b"X-Slow: " + b"a" * 200
    start = time.monotonic()
    with socket.create_connection(address) as sock:
        sock.settimeout(0.2)
        closed = False
        for byte in request:
            try:
                sock.sendall(bytes([byte]))
                if sock.recv(1) == b"":
                    closed = True
                    break
            except TimeoutError:
                continue
            except OSError:
                closed = True
                break
    assert closed, "the server kept a trickling client past the header time-out"
    assert time.monotonic() - start <= SHORT + 2


def test_a_stalled_body_is_closed_and_the_server_keeps_serving(
    address: tuple[str, int],
) -> None:
    head = (b"POST /jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Content-Length: 500\r\n\r\n")
    with socket.create_connection(address) as sock:
        sock.sendall(head + b'{"process_graph": ')
        waited = _closed_after(sock, SHORT + 5)
    assert SHORT * 0.8 <= waited <= SHORT + 2
    with socket.create_connection(address) as sock:
        sock.sendall(b"GET /data HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        sock.settimeout(10)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 200")


def test_a_request_in_pieces_within_the_time_is_served(address: tuple[str, int]) -> None:
    with socket.create_connection(address) as sock:
        for piece in (b"GET /da", b"ta HTTP/1.1\r\nHost: 127.0.0.1\r\n", b"\r\n"):
            sock.sendall(piece)
            time.sleep(SHORT / 4)
        sock.settimeout(10)
        assert sock.recv(12) == b"HTTP/1.1 200"


def test_idle_keep_alive_closes_and_a_next_request_gets_the_header_clock(
    address: tuple[str, int],
) -> None:
    with socket.create_connection(address) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        sock.settimeout(10)
        assert sock.recv(12) == b"HTTP/1.1 200"
        waited = _closed_after(sock, 10)  # silent after the response: keep-alive (1 s)
    assert waited <= 1 + 2
    with socket.create_connection(address) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        sock.settimeout(10)
        assert sock.recv(12) == b"HTTP/1.1 200"
        time.sleep(0.3)
        sock.sendall(b"GET /dat")  # the next request starts, then stalls
        waited = _closed_after(sock, SHORT + 5)
    assert waited <= SHORT + 2
