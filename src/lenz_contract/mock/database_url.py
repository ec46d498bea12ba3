"""PostgreSQL URLs as the mock shows them: never with their password (banners, errors, logs).

Kept apart from the store so that the CLI can show a URL without importing psycopg; whether a
`--state` value is a URL at all is `config.is_database_url` (on every start's path).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit


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


def _query_passwords(url: str) -> list[str]:
    """Values of `password=` in the query (libpq reads connection parameters there too)."""
    return [value for key, value in parse_qsl(urlsplit(url).query) if key == "password" and value]


def password(url: str) -> str | None:
    try:
        found = urlsplit(url).password
    except ValueError:
        found = None
    if found:
        return unquote(found)
    queried = _query_passwords(url)
    return queried[0] if queried else None


def redact_url(url: str) -> str:
    """`url` with its password (in the user part or a `password=` parameter) as `***`."""
    if password(url) is None:
        return url
    parts = urlsplit(url)
    if "@" in parts.netloc and parts.password:
        userinfo, _, hostinfo = parts.netloc.rpartition("@")
        parts = parts._replace(netloc=f"{userinfo.partition(':')[0]}:***@{hostinfo}")
    if _query_passwords(url):
        pairs = parse_qsl(parts.query, keep_blank_values=True)
        query = urlencode([(k, "***" if k == "password" else v) for k, v in pairs], safe="*")
        parts = parts._replace(query=query)
    return parts.geturl()


def scrub(text: str, url: str) -> str:
    """`text` (a driver's message) with the URL's password removed, on one line."""
    try:
        raw_userinfo = urlsplit(url).password
    except ValueError:
        raw_userinfo = None
    for raw in {password(url), raw_userinfo, *_query_passwords(url)} - {None, ""}:
        assert raw is not None
        text = text.replace(raw, "***")
    return " ".join(text.split())
