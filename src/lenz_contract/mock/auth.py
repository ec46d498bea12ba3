"""Bearer tokens the mock accepts, and who each one is (the `triggered_by` of manual runs)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

DEFAULT_TOKEN = "lenz-mock-token"
DEFAULT_USER = "user-alfin"
"""The user of the docs' manual execution example."""


def parse_tokens(specs: Iterable[str]) -> dict[str, str]:
    """`["TOKEN", "TOKEN=USER_ID"]` → `{token: user}`; a bare token stands for the docs' user.

    No specs at all means the default token. Raises ValueError on an empty token or user.
    """
    tokens: dict[str, str] = {}
    for spec in specs:
        token, sep, user = spec.partition("=")
        token, user = token.strip(), user.strip()
        if not token or (sep and not user) or any(c.isspace() for c in token):
            raise ValueError(f"a token is TOKEN or TOKEN=USER_ID without spaces, got {spec!r}")
        tokens[token] = user or DEFAULT_USER
    return tokens or {DEFAULT_TOKEN: DEFAULT_USER}


def bearer_user(authorization: str | None, tokens: Mapping[str, str]) -> str | None:
    """The user of a `Bearer <token>` header value; None when missing, malformed or unknown."""
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return tokens.get(token.strip())
