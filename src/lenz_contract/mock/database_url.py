"""PostgreSQL URLs as the mock shows them: never with their password (banners, errors, logs).

Kept apart from the store so that the CLI can check and show a URL without importing psycopg.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

SCHEMES = ("postgresql", "postgres")


def is_database_url(text: str) -> bool:
    """Whether a `--state` value names a PostgreSQL database rather than a SQLite file."""
    scheme, sep, _ = text.partition("://")
    return bool(sep) and scheme.lower() in SCHEMES


@dataclass(frozen=True)
class Target:
    """Where a URL points: what an error message names (host, port, database, user)."""

    host: str
    port: str
    database: str
    user: str

    def __str__(self) -> str:
        return f"{self.host}:{self.port}, database {self.database!r}, user {self.user!r}"


def target(url: str) -> Target:
    """Host, port, database and user of `url` (libpq's defaults for what it leaves out)."""
    parts = urlsplit(url)
    try:
        port = str(parts.port or 5432)
    except ValueError:
        port = parts.netloc.rpartition(":")[2] or "5432"
    user = unquote(parts.username or "") or "(default)"
    database = unquote(parts.path.lstrip("/")) or user
    return Target(parts.hostname or "localhost", port, database, user)


def password(url: str) -> str | None:
    try:
        found = urlsplit(url).password
    except ValueError:
        return None
    return unquote(found) if found else None


def redact_url(url: str) -> str:
    """`url` with its password replaced by `***`."""
    secret = password(url)
    parts = urlsplit(url)
    if secret is None or "@" not in parts.netloc:
        return url
    userinfo, _, hostinfo = parts.netloc.rpartition("@")
    user = userinfo.partition(":")[0]
    return parts._replace(netloc=f"{user}:***@{hostinfo}").geturl()


def scrub(text: str, url: str) -> str:
    """`text` (a driver's message) with the URL's password removed, on one line."""
    secret = password(url)
    for raw in {secret, urlsplit(url).password} - {None, ""}:
        assert raw is not None
        text = text.replace(raw, "***")
    return " ".join(text.split())
