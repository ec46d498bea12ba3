"""Bearer tokens the mock accepts, and who each one is (the `triggered_by` of manual runs)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

DEFAULT_TOKEN = "lenz-mock-token"
DEFAULT_USER = "user-alfin"
"""The user of the docs' manual execution example."""


NAMESPACE_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}\Z")
"""The rule of `namespaces.NAME_RULE` (auth stands alone: the CLI parses tokens early)."""


@dataclass(frozen=True)
class TokenSpec:
    token: str
    user: str
    namespace: str | None = None
    """The namespace the token is confined to (`TOKEN=USER@NAMESPACE`), or None."""


def parse_token_specs(specs: Iterable[str]) -> list[TokenSpec]:
    """`TOKEN`, `TOKEN=USER_ID` or `TOKEN=USER_ID@NAMESPACE`, each a `TokenSpec`.

    The last `@` binds the token to a namespace when what follows is a namespace name, so a
    user id may hold `@` (`alice@example.com`: `example.com` is no namespace name, a dot is not
    allowed), and `alice@example.com@team-a` binds it. No specs means the default token.
    Raises ValueError on an empty token or user.
    """
    parsed: dict[str, TokenSpec] = {}
    for spec in specs:
        token, sep, user = spec.partition("=")
        token, user = token.strip(), user.strip()
        if not token or (sep and not user) or any(c.isspace() for c in token):
            raise ValueError(
                f"a token is TOKEN, TOKEN=USER_ID or TOKEN=USER_ID@NAMESPACE without spaces, "
                f"got {spec!r}"
            )
        namespace = None
        who, at, where = user.rpartition("@")
        if at and who and NAMESPACE_NAME.match(where):
            user, namespace = who, where
        parsed[token] = TokenSpec(token, user or DEFAULT_USER, namespace)
    return list(parsed.values()) or [TokenSpec(DEFAULT_TOKEN, DEFAULT_USER)]


def parse_tokens(specs: Iterable[str]) -> dict[str, str]:
    """`["TOKEN", "TOKEN=USER_ID"]` → `{token: user}`; a bare token stands for the docs' user.

    No specs at all means the default token. Raises ValueError on an empty token or user.
    """
    return {spec.token: spec.user for spec in parse_token_specs(specs)}


def token_namespaces(specs: Iterable[str]) -> dict[str, str]:
    """`{token: namespace}` for the tokens bound to a namespace."""
    return {s.token: s.namespace for s in parse_token_specs(specs) if s.namespace is not None}


def bearer_token(authorization: str | None) -> str | None:
    """The token of a `Bearer <token>` header value; None when missing or malformed."""
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip()


def bearer_user(authorization: str | None, tokens: Mapping[str, str]) -> str | None:
    """The user of a `Bearer <token>` header value; None when missing, malformed or unknown."""
    token = bearer_token(authorization)
    return tokens.get(token) if token is not None else None
