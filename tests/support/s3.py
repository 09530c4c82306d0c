"""A real S3-compatible HTTP server on loopback: moto's server mode (``moto[server]``)."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import fsspec
import httpx
import pytest
from fsspec import AbstractFileSystem

from tests.support.batchdata import ROOT, child_env, free_port
from tests.support.cluster import stop_processes

CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "ondemand-test",
    "AWS_SECRET_ACCESS_KEY": "ondemand-test-secret",
    "AWS_DEFAULT_REGION": "us-east-1",
}
"""What the S3 clients of the tests sign with (moto accepts any)."""


def why_no_s3() -> str | None:
    """Why the S3 server cannot start here, None when it can."""
    try:
        import moto.server  # noqa: F401
    except ImportError:
        return "moto[server] is not installed (pip install -e '.[test]' installs it)"
    return None


@contextmanager
def s3_server() -> Iterator[str]:
    """Start ``moto.server`` on a free loopback port; yield its endpoint URL."""
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        env=child_env(), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(endpoint, timeout=2)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the S3 test server did not start") from None
                time.sleep(0.1)
        yield endpoint
    finally:
        stop_processes([process])


def bucket_filesystem(endpoint: str) -> AbstractFileSystem:
    """An fsspec S3 filesystem on ``endpoint``, with no instance or listing cache."""
    return fsspec.filesystem("s3", client_kwargs={"endpoint_url": endpoint},
                             skip_instance_cache=True, use_listings_cache=False)


def new_bucket(endpoint: str, prefix: str = "results") -> str:
    """Create a bucket with a fresh name on ``endpoint``; its name."""
    bucket = f"{prefix}-{uuid.uuid4().hex[:10]}"
    bucket_filesystem(endpoint).mkdir(bucket)
    return bucket


@contextmanager
def s3_environment() -> Iterator[None]:
    """The test server's credentials in the environment for the block (as a deployment
    sets them), for fixtures wider than one test."""
    with pytest.MonkeyPatch.context() as patch:
        for key, value in CREDENTIALS.items():
            patch.setenv(key, value)
        yield
