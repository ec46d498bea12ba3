"""Throwaway PostgreSQL clusters for the tests: `initdb` in a temporary folder, a loopback port.

No container runtime and no server of the machine's: each cluster is made from the PostgreSQL
server binaries (`initdb`, `pg_ctl`, `postgres`), listens on 127.0.0.1 only (no Unix socket),
trusts local connections, and is removed with its folder. PostgreSQL refuses to run as root, so
when the tests run as root (CI) the cluster runs as the `postgres` user that Debian's package
creates. Missing binaries FAIL the tests that need them (never a skip): CI installs PostgreSQL
(`.ci/run`), and a developer is told to.

`fsync` is off: these clusters hold test data only, and nothing here crashes PostgreSQL itself
(the durability tests kill the mock, not the database; the outage test stops it cleanly).
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from .live import free_port

INSTALL_HINT = (
    "PostgreSQL server binaries (initdb, pg_ctl, postgres) were not found: install PostgreSQL "
    "(Debian/Ubuntu: apt-get install postgresql; macOS: brew install postgresql) or put its bin "
    "folder on PATH. CI installs it (.ci/run); the PostgreSQL store's tests need it."
)
SUPERUSER = "lenz"
SETTINGS = "-c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c max_connections=200"
FAST = "-c fsync=off -c full_page_writes=off -c shared_buffers=64MB"
"""Tests only: no crash safety for PostgreSQL itself (benchmarks keep the defaults)."""


def server_bin() -> Path | None:
    """The folder of `initdb` and `pg_ctl`: on PATH, else Debian's newest /usr/lib/postgresql."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_version)
    return Path(versions[-1]).parent if versions else None


def _version(path: str) -> float:
    try:
        return float(Path(path).parts[-3])
    except ValueError:
        return 0.0


def require_server_bin() -> Path:
    """The binaries' folder, or a test failure saying to install PostgreSQL."""
    folder = server_bin()
    if folder is None:
        pytest.fail(INSTALL_HINT, pytrace=False)
    return folder


def _run_as() -> dict[str, Any]:
    """`subprocess` arguments that drop root for the `postgres` user (PostgreSQL refuses root)."""
    if os.geteuid() != 0:
        return {}
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        pytest.fail("running as root needs a `postgres` user to run PostgreSQL as", pytrace=False)
    return {"user": "postgres", "group": "postgres", "extra_groups": []}


@dataclass
class Cluster:
    """One running throwaway cluster; `url(db)` connects to it as its superuser."""

    bin: Path
    folder: Path
    port: int
    host: str = "127.0.0.1"
    settings: str = f"{SETTINGS} {FAST}"

    @property
    def data(self) -> Path:
        return self.folder / "data"

    @property
    def log(self) -> Path:
        return self.folder / "server.log"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}@{self.host}:{self.port}/{database}"

    @classmethod
    def create(cls, settings: str = f"{SETTINGS} {FAST}") -> Cluster:
        """Make and start a cluster; `settings` are `postgres -c` options (the tests' default
        turns fsync off; a benchmark passes `SETTINGS` plus what it measures with)."""
        folder = Path(tempfile.mkdtemp(prefix="lenz-pg-"))
        user = _run_as()
        if user:
            shutil.chown(folder, "postgres", "postgres")
        cluster = cls(require_server_bin(), folder, free_port(), settings=settings)
        cluster._pg(
            "initdb", "-D", str(cluster.data), "-U", SUPERUSER, "--auth=trust",
            "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync",
        )  # fmt: skip
        cluster.start()
        return cluster

    def _pg(self, program: str, *args: str, timeout: float = 120) -> None:
        done = subprocess.run(
            [str(self.bin / program), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=self.folder,
            **_run_as(),
        )
        if done.returncode != 0:
            log = self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""
            raise RuntimeError(f"{program} failed: {done.stdout}{done.stderr}\n{log}")

    def start(self) -> None:
        options = f"-p {self.port} {self.settings}"
        self._pg("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start")
        deadline = time.monotonic() + 30
        while not self.ready():
            if time.monotonic() > deadline:
                raise RuntimeError(f"PostgreSQL did not accept connections:\n{self.log_tail()}")
            time.sleep(0.05)

    def ready(self) -> bool:
        import psycopg

        try:
            with psycopg.connect(self.url(), connect_timeout=2):
                return True
        except psycopg.OperationalError:
            return False

    def stop(self, mode: str = "fast") -> None:
        self._pg("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""

    def remove(self) -> None:
        with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
            self.stop("immediate")
        shutil.rmtree(self.folder, ignore_errors=True)

    def execute(self, sql: str, database: str = "postgres") -> None:
        import psycopg

        with psycopg.connect(self.url(database), autocommit=True) as conn:
            conn.execute(sql.encode())

    def new_database(self, name: str) -> str:
        """A fresh empty database (from template0); returns its URL."""
        self.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
        return self.url(name)

    def drop_database(self, name: str) -> None:
        with contextlib.suppress(Exception):
            self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def throwaway_cluster() -> Iterator[Cluster]:
    """A cluster of its own, for a test that stops and starts PostgreSQL."""
    cluster = Cluster.create()
    try:
        yield cluster
    finally:
        cluster.remove()


class Databases:
    """Fresh databases on one cluster, numbered; each dropped when its test ends."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self._count = 0

    def new(self) -> tuple[str, str]:
        """`(name, url)` of a new empty database."""
        self._count += 1
        name = f"lenz_test_{os.getpid()}_{self._count}"
        return name, self.cluster.new_database(name)
