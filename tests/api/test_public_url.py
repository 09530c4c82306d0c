"""Which URL a request was addressed to: Host checked, X-Forwarded-* only from trusted proxies."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from ondemand.settings import Settings
from services import create_app
from services.public_url import PublicURLMiddleware

FORWARDED = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "maps.example.org",
             "X-Forwarded-For": "203.0.113.7, 10.0.0.9"}


async def _echo(request: Request) -> JSONResponse:
    client = request.client
    return JSONResponse({"url": str(request.url_for("echo")),
                         "client": None if client is None else client.host})


def _client(peer: str, server: tuple[str, int] = ("127.0.0.1", 8000),
            **options: object) -> TestClient:
    """A client of a one-route app behind the middleware, as seen from ``peer`` and
    connected to ``server``."""
    inner = Starlette(routes=[Route("/echo", _echo, name="echo")])
    mw = PublicURLMiddleware(inner, **options)  # type: ignore[arg-type]

    async def app(scope, receive, send):  # type: ignore[no-untyped-def]
        await mw({**scope, "server": server}, receive, send)

    return TestClient(app, client=(peer, 40000), base_url=f"http://{server[0]}:{server[1]}")


@pytest.mark.parametrize(
    ("peer", "trusted", "url", "client"),
    [
        pytest.param("10.0.0.9", ("10.0.0.0/8",), "https://maps.example.org/echo",
                     "203.0.113.7", id="from-a-trusted-proxy"),
        pytest.param("10.0.0.9", ("10.0.0.9",), "https://maps.example.org/echo",
                     "203.0.113.7", id="trusted-single-address"),
        pytest.param("192.0.2.1", ("10.0.0.0/8",), "http://127.0.0.1:8000/echo",
                     "192.0.2.1", id="from-anyone-else-ignored"),
        pytest.param("10.0.0.9", (), "http://127.0.0.1:8000/echo", "10.0.0.9",
                     id="no-proxy-configured-ignored"),
    ],
)
def test_forwarded_headers_only_from_trusted_proxies(peer: str, trusted: tuple[str, ...],
                                                     url: str, client: str) -> None:
    with _client(peer, trusted_proxies=trusted) as http:
        got = http.get("/echo", headers={"Host": "127.0.0.1:8000", **FORWARDED}).json()
    assert got == {"url": url, "client": client}


def test_forwarded_for_skips_trusted_hops_and_garbage() -> None:
    with _client("10.0.0.9", trusted_proxies=("10.0.0.0/8",)) as http:
        through_two = http.get("/echo", headers={
            "X-Forwarded-For": "198.51.100.1, 203.0.113.7, 10.0.0.3"}).json()
        garbage = http.get("/echo", headers={"X-Forwarded-For": "not-an-ip",
                                             "X-Forwarded-Proto": "gopher",
                                             "X-Forwarded-Host": "bad host/x"}).json()
    assert through_two["client"] == "203.0.113.7"  # the last hop no trusted proxy added
    assert garbage == {"url": "http://127.0.0.1:8000/echo", "client": "10.0.0.9"}


@pytest.mark.parametrize(
    ("server", "host", "url"),
    [
        pytest.param(("127.0.0.1", 8000), "localhost:8000", "http://localhost:8000/echo",
                     id="loopback-name-kept"),
        pytest.param(("127.0.0.1", 8000), "[::1]:8000", "http://[::1]:8000/echo",
                     id="loopback-ipv6-kept"),
        pytest.param(("127.0.0.1", 8000), "evil.example:8000", "http://127.0.0.1:8000/echo",
                     id="rebinding-name-replaced"),
        pytest.param(("127.0.0.1", 8000), "localhost:9999", "http://127.0.0.1:8000/echo",
                     id="other-port-replaced"),
        pytest.param(("192.168.1.5", 80), "192.168.1.5", "http://192.168.1.5/echo",
                     id="bound-address-kept"),
        pytest.param(("192.168.1.5", 80), "maps.example.org", "http://192.168.1.5/echo",
                     id="unchecked-name-replaced"),
        pytest.param(("192.168.1.5", 80), "a b", "http://192.168.1.5/echo",
                     id="malformed-replaced"),
    ],
)
def test_host_header_checked_against_the_bound_address(server: tuple[str, int], host: str,
                                                        url: str) -> None:
    with _client("127.0.0.1", server=server) as http:
        assert http.get("/echo", headers={"Host": host}).json()["url"] == url


def test_public_url_wins_over_forwarded_headers() -> None:
    with _client("10.0.0.9", trusted_proxies=("10.0.0.0/8",),
                 public_url="https://example.org/ondemand") as http:
        got = http.get("/echo", headers=FORWARDED).json()
    assert got == {"url": "https://example.org/ondemand/echo", "client": "203.0.113.7"}


def test_service_url_of_the_real_app_follows_a_trusted_proxy(demo_data_dir: Path) -> None:
    settings = Settings(data_dir=demo_data_dir, demo=True, trusted_proxies=("10.0.0.0/8",))
    graph = {"process_id": "max_time", "args": {"imagery": {"product_id": "S2_L2A_T32TPS_20M"}}}
    with TestClient(create_app(settings), client=("10.1.2.3", 5000)) as proxied:
        job = proxied.post("/jobs/on_demand", json={"process_graph": graph}).json()["job_id"]
        made = proxied.post("/services", json={"job_id": job, "type": "xyz"}, headers=FORWARDED)
    assert made.json()["service_url"].startswith("https://maps.example.org/services/")
    with TestClient(create_app(settings), client=("192.0.2.1", 5000)) as direct:
        made = direct.post("/services", json={"job_id": job, "type": "xyz"}, headers=FORWARDED)
    assert made.json()["service_url"].startswith("http://testserver/services/")


def test_unusable_trusted_proxy_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    from services.cli import main

    assert main(["serve", "--trusted-proxy", "proxy.example", "--port", "1"]) == 2
    assert "--trusted-proxy" in capsys.readouterr().err
