"""A real PostgreSQL server for the tests: initdb in a temporary folder, started on loopback.

Debian's ``postgresql`` (and ``postgresql-15-postgis-3`` for pgSTAC) provide the binaries;
``.ci/run`` installs them. PostgreSQL refuses to run as root, so when the tests run as
root the cluster belongs to the ``postgres`` system user and commands run as that user.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from ipaddress import IPv4Interface
from pathlib import Path

from tests.support.live import free_port

BIN_DIRS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)


def postgres_bin() -> Path | None:
    """The folder of Debian's newest PostgreSQL server binaries, None when not installed."""
    for folder in BIN_DIRS:
        if (folder / "initdb").exists() and (folder / "pg_ctl").exists():
            return folder
    return None


def why_no_postgres() -> str | None:
    """Why a PostgreSQL server cannot be started here, None when it can."""
    if postgres_bin() is None:
        return "PostgreSQL server binaries not found (apt-get install postgresql; .ci/run does)"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "running as root without runuser: PostgreSQL cannot start as root"
    return None


@dataclass(frozen=True)
class Postgres:
    """A running server: its port, data folder and the DSN of its ``postgres`` database."""

    port: int
    data_dir: Path
    bin_dir: Path
    network: IPv4Interface | None = None
    """Also listen on this address and trust clients of its network (other namespaces)."""

    def dsn(self, database: str = "postgres") -> str:
        """A libpq URL for ``database`` as the superuser ``postgres`` (trust auth on loopback)."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """Create ``name`` (a fresh, empty database) and return its DSN."""
        self.run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name)
        return self.dsn(name)

    def restart(self) -> None:
        """Stop and start the server again on the same port (an outage clients must survive)."""
        self.run("pg_ctl", "-D", str(self.data_dir), "-m", "fast", "-w", "restart",
                 "-o", self._options(), "-l", str(self.data_dir / "server.log"))

    def stop(self) -> None:
        """Stop the server (fast shutdown); ``start`` brings it back."""
        self.run("pg_ctl", "-D", str(self.data_dir), "-m", "fast", "-w", "stop")

    def start(self) -> None:
        """Start the server on its port."""
        self.run("pg_ctl", "-D", str(self.data_dir), "-w", "start", "-o", self._options(),
                 "-l", str(self.data_dir / "server.log"))

    def run(self, tool: str, *args: str) -> None:
        """Run one of the server's binaries as the cluster's owner."""
        _run([str(self.bin_dir / tool), *args])

    def _options(self) -> str:
        listen = "127.0.0.1" if self.network is None else f"127.0.0.1,{self.network.ip}"
        return f"-p {self.port} -k {self.data_dir} -c listen_addresses={listen} -c fsync=off"


@contextmanager
def running_postgres(network: IPv4Interface | None = None) -> Iterator[Postgres]:
    """Initialise a cluster in a temporary folder, start it on a free loopback port (and on
    ``network``'s address), yield it, then stop it and remove the folder."""
    bin_dir = postgres_bin()
    if bin_dir is None:
        raise RuntimeError(why_no_postgres() or "PostgreSQL is not installed")
    root = Path(tempfile.mkdtemp(prefix="ondemand-pg-"))
    data_dir = root / "data"
    data_dir.mkdir()
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
        shutil.chown(data_dir, "postgres", "postgres")
    server = Postgres(port=free_port(), data_dir=data_dir, bin_dir=bin_dir, network=network)
    try:
        server.run("initdb", "-D", str(data_dir), "-U", "postgres", "-A", "trust",
                   "-E", "UTF8", "--no-locale")
        if network is not None:
            with open(data_dir / "pg_hba.conf", "a") as hba:
                hba.write(f"host all all {network.network} trust\n")
        server.start()
        yield server
    finally:
        if (data_dir / "postmaster.pid").exists():
            server.run("pg_ctl", "-D", str(data_dir), "-m", "immediate", "-w", "stop")
        shutil.rmtree(root, ignore_errors=True)


def _run(command: list[str]) -> None:
    """Run a command, as the ``postgres`` user when we are root; raise with its output."""
    if os.geteuid() == 0:
        command = ["runuser", "-u", "postgres", "--", *command]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {done.stdout}{done.stderr}")
