"""`proxy --log-exchanges FILE`: one JSONL record per exchange, what `lenz-contract drift` reads.

The violation log (`--log`) says what broke a rule; it cannot say which fields an answer carries
that the contract does not describe, which values a status field takes, or which offsets the
timestamps use: a conforming answer leaves no trace there. This log keeps every answer's body
(and the request's), so `drift` can aggregate what a deployment really does.

One line per exchange:

    {"kind": "exchange", "v": 1, "time": "...Z", "exchange": 7, "operation": "getWorkflow",
     "template": "/api/workflows/{id}", "method": "GET", "path": "/api/workflows/wf-1",
     "query": [["page", "1"]], "status": 200, "complete": true,
     "content_type": "application/json", "request": {...} | null,
     "response": {...} | null, "response_body": "json"}

`response_body` says what became of the body: `json` (kept), `none` (empty), `not-json`,
`too-large` (over `MAX_LOGGED_BODY`, dropped), `not-captured` (over the proxy's capture limit,
or an encoding it cannot undo). Everything goes through the proxy's redactor first, as the
violation log does: secret-named keys, bearer tokens and every secret seen in a request header.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from .exchange import JSON_MEDIA_TYPE, Exchange, media_type, parse_json
from .redact import Redactor

KIND = "exchange"
VERSION = 1
MAX_LOGGED_BODY = 1024 * 1024


def iso(epoch: float) -> str:
    return (
        datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )


def _json_of(raw: bytes | None, content_type: str | None) -> tuple[Any, str]:
    """`(value, what became of the body)` for a raw body."""
    if raw is None:
        return None, "not-captured"
    if not raw:
        return None, "none"
    if len(raw) > MAX_LOGGED_BODY:
        return None, "too-large"
    kind = media_type(content_type)
    if kind and kind != JSON_MEDIA_TYPE and not kind.endswith("+json"):
        return None, "not-json"
    ok, value, _ = parse_json(raw)
    return (value, "json") if ok else (None, "not-json")


def exchange_record(
    exchange: Exchange,
    *,
    operation: str | None,
    template: str | None,
    redactor: Redactor,
    response_json: Any = None,
    response_parsed: bool = False,
) -> dict[str, Any]:
    """The log record of one exchange (redacted). `response_json` saves a second parse when the
    fast engine already read the answer."""
    request, _ = _json_of(exchange.request_body, exchange.request_content_type)
    if response_parsed:
        response, what = response_json, "json"
    else:
        response, what = _json_of(exchange.decoded_response_body(), exchange.response_content_type)
    return {
        "kind": KIND,
        "v": VERSION,
        "time": iso(exchange.time),
        "exchange": exchange.id,
        "operation": operation,
        "template": template,
        "method": exchange.method,
        "path": redactor.text(exchange.path),
        "query": [list(pair) for pair in redactor.query(exchange.query)],
        "status": exchange.status,
        "complete": exchange.response_complete,
        "content_type": media_type(exchange.response_content_type),
        "request": redactor.json(request),
        "response": redactor.json(response),
        "response_body": what,
    }


class ExchangeLog:
    """Appends one record per exchange; the file is opened once (in the proxy's lifespan)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._handle: TextIO | None = path.open("a", encoding="utf-8")
        self.written = 0

    def write(self, record: dict[str, Any]) -> None:
        if self._handle is None:
            return
        self._handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        self._handle.flush()
        self.written += 1

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None
