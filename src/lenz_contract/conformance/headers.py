"""Headers a run sends with every request: a gateway's API key, the mock's namespace.

Why: many deployments sit behind a gateway that wants a header of its own besides the bearer
token, and a team's shared mock keeps each job's data apart by `X-Lenz-Mock-Namespace`. The
run adds them on the wire (the guard transport), to every request of every phase, the
preflight included. The run owns `Authorization` (the token) and the framing headers, so those
are refused. A value whose header name looks like a secret (`X-Api-Key`, `Cookie`, ...) is
shown as `***` in every report and message, as schemathesis sanitizes such headers; others (a
namespace) stay readable, so a reproduction with `curl` works as printed.
"""

from __future__ import annotations

import re

OWNED = {
    "authorization": "Authorization is the run's own: pass the token with --token or --token-command",
    "host": "Host comes from --base-url",
    "content-length": "Content-Length is set by the run for each body",
    "content-type": "Content-Type is set by the run for each body",
    "transfer-encoding": "Transfer-Encoding is set by the run for each body",
    "connection": "Connection is managed by the run's HTTP client",
}
NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+\Z")
"""RFC 9110 field names: a token."""
SECRET_NAME = re.compile(
    r"auth|key|token|secret|session|cookie|passw|signature|credential", re.IGNORECASE
)
REDACTED = "***"
SHORTEST_REDACTED = 4
"""Shorter values are not replaced in free text (a one-character secret would garble every
message); such a header is still shown as `***` wherever headers are listed."""


class HeaderError(ValueError):
    """A `--header` the run cannot send; says why."""


def parse_header(text: str) -> tuple[str, str]:
    """`"X-Api-Key: abc"` → `("X-Api-Key", "abc")`, or `HeaderError` naming the problem."""
    name, sep, value = text.partition(":")
    name, value = name.strip(), value.strip()
    if not sep or not name:
        raise HeaderError(f"{text!r} is not NAME: VALUE (for example 'X-Api-Key: abc123')")
    if NAME.match(name) is None:
        raise HeaderError(f"{name!r} is not a header name (letters, digits and !#$%&'*+.^_`|~-)")
    if any(c in value for c in "\r\n\x00"):
        raise HeaderError(f"the value of {name} holds a line break or a NUL")
    owned = OWNED.get(name.lower())
    if owned is not None:
        raise HeaderError(owned)
    return name, value


def is_secret(name: str) -> bool:
    """Whether a header's value is kept out of reports (by its name)."""
    return SECRET_NAME.search(name) is not None


def secret_values(headers: tuple[tuple[str, str], ...]) -> list[str]:
    """The values to replace by `***` in text a run writes."""
    return [v for n, v in headers if is_secret(n) and len(v) >= SHORTEST_REDACTED]


def shown(name: str, value: str) -> str:
    """A header's value as reports show it."""
    return REDACTED if is_secret(name) else value
