"""The last N requests the mock answered, with their validation result (`/__mock/requests`).

A ring buffer of small dicts: cheap enough to stay on for every request, and what a developer
reads first when the frontend "gets a 400 for no reason". Authorization is never kept.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import MutableMapping
from typing import Any

from ..spec import FieldError

REDACTED = "[redacted]"
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie"})


def redact_headers(raw: list[tuple[bytes, bytes]]) -> dict[str, str]:
    """Credentials out: the credential headers, and any header carrying a bearer token."""
    out: dict[str, str] = {}
    for name, value in raw:
        key = name.decode("latin-1").lower()
        text = value.decode("latin-1")
        secret = key in SECRET_HEADERS or text.lstrip()[:7].lower() == "bearer "
        out[key] = REDACTED if secret else text
    return out


class RequestRecorder:
    def __init__(self, size: int = 200) -> None:
        self._entries: deque[
            tuple[float, MutableMapping[str, Any], str | None, int, list[FieldError], float]
        ]
        self._entries = deque(maxlen=max(size, 1))

    def record(
        self,
        scope: MutableMapping[str, Any],
        *,
        operation_id: str | None,
        status: int,
        errors: list[FieldError],
        started: float,
    ) -> None:
        # A tuple now, a dict when read: recording stays a few hundred nanoseconds.
        self._entries.append(
            (time.time(), scope, operation_id, status, errors, time.perf_counter() - started)
        )

    def last(self, count: int) -> list[dict[str, Any]]:
        """Newest first, headers redacted (done here, off the request path)."""
        entries = list(self._entries)[-count:] if count > 0 else []
        out = []
        for at, scope, operation_id, status, errors, took in reversed(entries):
            out.append(
                {
                    "time": at,
                    "method": scope.get("method"),
                    "path": scope.get("path"),
                    "query": scope.get("query_string", b"").decode("latin-1"),
                    "headers": redact_headers(scope.get("headers", [])),
                    "operation_id": operation_id,
                    "status": status,
                    "valid": not errors and status < 400,
                    "errors": [e.as_dict() for e in errors],
                    "duration_ms": round(took * 1000, 3),
                }
            )
        return out

    def clear(self) -> None:
        self._entries.clear()
