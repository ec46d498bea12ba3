"""The documented error envelope, `{ok: false, message: "invalid request"}`, with reasons.

Every refusal the mock sends (400, 401, 403, 404, 405, 413, 415, injected failures) uses it: the
docs' message is always "invalid request", and the mock adds `errors: [{path, reason}]` so a
developer can act on it (docs/contract-decisions.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..spec import FieldError

INVALID_REQUEST = "invalid request"


def error_body(errors: Iterable[FieldError] = (), message: str = INVALID_REQUEST) -> dict[str, Any]:
    body: dict[str, Any] = {"ok": False, "message": message}
    listed = [e.as_dict() for e in errors]
    if listed:
        body["errors"] = listed
    return body


def one_error(path: str, reason: str) -> dict[str, Any]:
    return error_body([FieldError(path, reason)])


UNAUTHORIZED_REASON = "a known bearer token is required (Authorization: Bearer <token>)"
