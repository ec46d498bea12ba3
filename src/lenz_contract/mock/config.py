"""How one mock is set up: the CLI's options, or `create_app(...)`'s arguments in a test."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..spec import FIXTURES_DIR
from .auth import DEFAULT_TOKEN, DEFAULT_USER
from .clock import MockClock

MAX_BODY_BYTES = 1024 * 1024
"""Bodies over 1 MiB are refused with 413 (the spec's PayloadTooLarge)."""
MAX_IMPORT_BYTES = 512 * 1024 * 1024
"""A state import may be large (the benchmark's state is hundreds of MB)."""

DATABASE_SCHEMES = ("postgresql", "postgres")


def is_database_url(text: str) -> bool:
    """Whether a `--state` value names a PostgreSQL database rather than a SQLite file."""
    scheme, sep, _ = text.partition("://")
    return bool(sep) and scheme.lower() in DATABASE_SCHEMES


@dataclass
class MockConfig:
    spec_path: Path | None = None
    """The spec to serve (default: the shipped one)."""
    tokens: Mapping[str, str] = field(default_factory=lambda: {DEFAULT_TOKEN: DEFAULT_USER})
    """Accepted bearer tokens and the user each one stands for."""
    token_namespaces: Mapping[str, str] = field(default_factory=dict)
    """Tokens confined to a namespace (`--token TOKEN=USER@NAMESPACE`)."""
    state_path: Path | None = None
    """A SQLite file to keep the state in; None keeps it in memory (or in `database_url`)."""
    database_url: str | None = None
    """A PostgreSQL URL (`postgresql://USER@HOST:PORT/DB`) to keep the state in, shared by
    every replica and worker that names it."""
    fixtures_dir: Path = FIXTURES_DIR
    seed: bool = True
    latency_ms: float = 0.0
    cors_origins: Sequence[str] = ("*",)
    reload_spec: bool = False
    host: str = "127.0.0.1"
    """Where the server listens: the admin API is open only on loopback (or with `admin`)."""
    admin: bool = False
    self_check: bool = False
    """Validate every answer against the spec; a mismatch becomes a loud 500 (tests turn it on)."""
    max_body_bytes: int = MAX_BODY_BYTES
    request_log_size: int = 200
    scheduler: bool = True
    """Fire schedules in the background (the admin clock fires them in any case)."""
    clock: MockClock | None = None

    @property
    def admin_allowed(self) -> bool:
        return self.admin or is_loopback(self.host)


def is_loopback(host: str) -> bool:
    if host in ("localhost", "ip6-localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def is_ip_address(host: str) -> bool:
    """An IP literal (an ASGI server's local address); False for names like `testserver`."""
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True
