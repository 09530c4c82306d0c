"""Hosts for the several-machine tests: network namespaces, else loopback addresses.

As root with ``ip`` available, each server gets its own network namespace (its own
interfaces, loopback and ports) joined by veth pairs to a bridge in the test's
namespace, which also carries the shared services (PostgreSQL, Dask): the servers reach
each other and those services only over that network, as machines do. Elsewhere each
server binds its own loopback address (127.0.0.2, 127.0.0.3, ...) instead.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from ipaddress import IPv4Interface


@dataclass(frozen=True)
class Network:
    """Where the shared services listen and how each host's server is started."""

    services: str
    """The address of the shared services (PostgreSQL, the Dask scheduler and workers)."""
    bridge: IPv4Interface | None
    """The services' address on the bridge with its network; None on loopback."""
    hosts: tuple[str, ...]
    """Each host's address."""
    prefixes: tuple[tuple[str, ...], ...]
    """The command prefix that runs a program on each host (``ip netns exec NS``)."""

    @property
    def kind(self) -> str:
        """``namespaces`` or ``loopback``."""
        return "loopback" if self.bridge is None else "namespaces"


def why_no_namespaces() -> str | None:
    """Why network namespaces cannot be made here, None when they can."""
    if os.geteuid() != 0:
        return "not root"
    if shutil.which("ip") is None:
        return "the ip command (iproute2) is missing"
    probe = f"odprobe{secrets.token_hex(3)}"
    made = subprocess.run(["ip", "netns", "add", probe], capture_output=True)
    if made.returncode != 0:
        return f"ip netns add failed: {made.stderr.decode().strip()}"
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    return None


def _ip(*args: str) -> None:
    """Run ``ip ARGS``; raise with its message on failure."""
    done = subprocess.run(["ip", *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)} failed: {done.stderr.strip()}")


@contextmanager
def hosts(count: int) -> Iterator[Network]:
    """``count`` hosts in their own namespaces (loopback addresses where impossible)."""
    if why_no_namespaces() is not None:
        addresses = tuple(f"127.0.0.{i + 2}" for i in range(count))
        yield Network("127.0.0.1", None, addresses, tuple(() for _ in addresses))
        return
    tag = secrets.token_hex(3)
    subnet = 16 + secrets.randbelow(200)
    bridge_name = f"odbr{tag}"
    bridge = IPv4Interface(f"10.213.{subnet}.1/24")
    names = [f"od{tag}h{i}" for i in range(count)]
    try:
        _ip("link", "add", bridge_name, "type", "bridge")
        _ip("addr", "add", str(bridge), "dev", bridge_name)
        _ip("link", "set", bridge_name, "up")
        addresses = []
        for i, name in enumerate(names):
            address = f"10.213.{subnet}.{i + 2}"
            _ip("netns", "add", name)
            _ip("link", "add", f"{name}r", "type", "veth", "peer", "name", f"{name}n")
            _ip("link", "set", f"{name}r", "master", bridge_name, "up")
            _ip("link", "set", f"{name}n", "netns", name)
            _ip("-n", name, "addr", "add", f"{address}/24", "dev", f"{name}n")
            _ip("-n", name, "link", "set", f"{name}n", "up")
            _ip("-n", name, "link", "set", "lo", "up")
            addresses.append(address)
        yield Network(str(bridge.ip), bridge, tuple(addresses),
                      tuple(("ip", "netns", "exec", name) for name in names))
    finally:
        for name in names:
            subprocess.run(["ip", "netns", "del", name], capture_output=True)
            subprocess.run(["ip", "link", "del", f"{name}r"], capture_output=True)
        subprocess.run(["ip", "link", "del", bridge_name], capture_output=True)
