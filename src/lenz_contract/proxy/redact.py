"""Keep secrets out of everything the proxy writes: console, JSONL log, report, recordings.

Three nets, because one is never enough with real traffic:
- by name: a header, query parameter or JSON key whose name says token, secret, password,
  credential(s), cookie, session, api key, private key, signature or authorization has its value
  replaced. Names ending in `id` are identifiers, not secrets (`credential_id: cred-tg-001` is
  what a recorded workflow needs to run in the mock), so they are kept;
- by shape: bearer tokens and JWT-looking strings anywhere in text;
- by value: every secret the proxy has seen in a request header (the bearer token, cookie values)
  is remembered and scrubbed wherever it shows up again, e.g. echoed in an error message.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

REDACTED = "[REDACTED]"
SECRET_WORDS = frozenset(
    {
        "token",
        "tokens",
        "secret",
        "secrets",
        "password",
        "passwd",
        "pwd",
        "passphrase",
        "credential",
        "credentials",
        "cookie",
        "cookies",
        "session",
        "sessionid",
        "apikey",
        "privatekey",
        "signature",
        "authorization",
        "auth",
        "jwt",
        "otp",
    }
)
SECRET_PAIRS = frozenset(
    {("api", "key"), ("private", "key"), ("access", "key"), ("client", "secret")}
)
IDENTIFIER_ENDINGS = frozenset({"id", "ids"})
MIN_REMEMBERED = 8  # shorter values would scrub ordinary words
MAX_REMEMBERED = 512

_WORD_SPLIT = re.compile(r"[^A-Za-z0-9]+|(?<=[a-z0-9])(?=[A-Z])")
_SHAPES = (
    re.compile(r"(?i)\b(bearer|basic|token)\s+[A-Za-z0-9._~+/=-]{4,}"),
    re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"),
)


@functools.lru_cache(maxsize=4096)
def is_secret_name(name: str) -> bool:
    """Does a header / parameter / JSON key name say its value is a secret?"""
    words = [w.lower() for w in _WORD_SPLIT.split(name) if w]
    if not words:
        return False
    if words[-1] in IDENTIFIER_ENDINGS and not {"session", "sessionid"} & set(words):
        return False
    if any(w in SECRET_WORDS for w in words):
        return True
    return any(pair in SECRET_PAIRS for pair in itertools.pairwise(words))


class Redactor:
    """Redacts headers, query pairs, JSON values and free text; remembers secrets it has seen."""

    def __init__(self) -> None:
        self._known: OrderedDict[str, None] = OrderedDict()
        self._pattern: re.Pattern[str] | None = None

    # -- learning --------------------------------------------------------------------------
    def learn_headers(self, headers: Iterable[tuple[str, str]]) -> None:
        """Remember the secret values of request headers (cheap; called on every exchange)."""
        for name, value in headers:
            lowered = name.lower()
            if lowered == "authorization":
                self._remember(value.partition(" ")[2].strip() or value)
            elif lowered == "cookie":
                for part in value.split(";"):
                    self._remember(part.partition("=")[2].strip())
            elif is_secret_name(name):
                self._remember(value)

    def _remember(self, value: str) -> None:
        if len(value) < MIN_REMEMBERED:
            return
        if value in self._known:
            self._known.move_to_end(value)
            return
        self._known[value] = None
        if len(self._known) > MAX_REMEMBERED:
            self._known.popitem(last=False)
        self._pattern = None

    # -- redacting -------------------------------------------------------------------------
    def text(self, value: str) -> str:
        """Scrub remembered secrets and token-shaped substrings from free text."""
        if self._known:
            if self._pattern is None:
                alternatives = sorted(self._known, key=len, reverse=True)
                self._pattern = re.compile("|".join(re.escape(v) for v in alternatives))
            value = self._pattern.sub(REDACTED, value)
        for shape in _SHAPES:
            value = shape.sub(_keep_scheme, value)
        return value

    def header_value(self, name: str, value: str) -> str:
        lowered = name.lower()
        if lowered == "authorization":
            scheme, _, rest = value.partition(" ")
            return f"{scheme} {REDACTED}" if rest else REDACTED
        if lowered in ("cookie", "set-cookie") or is_secret_name(name):
            return REDACTED
        return self.text(value)

    def headers(self, headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
        return [(name, self.header_value(name, value)) for name, value in headers]

    def query(self, pairs: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
        return [
            (name, REDACTED if is_secret_name(name) else self.text(value)) for name, value in pairs
        ]

    def json(self, value: Any) -> Any:
        """A copy of a JSON value with secret-named keys' values and secret text replaced."""
        if isinstance(value, dict):
            return {
                key: (REDACTED if is_secret_name(str(key)) else self.json(item))
                for key, item in value.items()
            }
        if isinstance(value, list):
            return [self.json(item) for item in value]
        if isinstance(value, str):
            return self.text(value)
        return value

    def path_is_secret(self, json_path: str) -> bool:
        """`body.nodes[0].config.bot_token` → True: a value at this path must not be shown."""
        return any(is_secret_name(part) for part in re.split(r"[.\[\]\"]+", json_path) if part)


def _keep_scheme(found: re.Match[str]) -> str:
    scheme = found.group(1) if found.re.groups else None
    return f"{scheme} {REDACTED}" if scheme else REDACTED
