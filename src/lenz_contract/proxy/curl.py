"""A redacted curl command that replays an exchange's request against the upstream.

The bearer token becomes `$LENZ_TOKEN` (the variable the conformance suite reads too), other
secrets become `[REDACTED]`; headers that curl sets itself or that only make sense on the
original connection are left out.
"""

from __future__ import annotations

import json
import shlex
from urllib.parse import urlencode

from .exchange import Exchange, media_type
from .redact import Redactor

SKIPPED_HEADERS = frozenset(
    {
        "host",
        "content-length",
        "connection",
        "keep-alive",
        "transfer-encoding",
        "accept-encoding",
        "user-agent",
        "cookie",
        "origin",
        "referer",
        "te",
        "upgrade",
        "expect",
    }
)
MAX_BODY_CHARS = 16_000


def curl_for(exchange: Exchange, base_url: str, redactor: Redactor) -> str:
    """`curl -sS -X POST 'http://upstream/api/workflows' -H "Authorization: Bearer $LENZ_TOKEN" ...`"""
    url = base_url.rstrip("/") + exchange.path
    if exchange.query:
        url += "?" + urlencode(redactor.query(exchange.query), safe="[]")
    parts = ["curl -sS", "-X", exchange.method, shlex.quote(url)]
    for name, value in exchange.request_headers:
        lowered = name.lower()
        if lowered in SKIPPED_HEADERS or lowered.startswith("sec-"):
            continue
        if lowered == "authorization":
            scheme = value.partition(" ")[0]
            shown = "Bearer $LENZ_TOKEN" if scheme.lower() == "bearer" else "$LENZ_AUTHORIZATION"
            parts += ["-H", f'"Authorization: {shown}"']
            continue
        parts += ["-H", shlex.quote(f"{lowered}: {redactor.header_value(name, value)}")]
    if exchange.request_body:
        parts += _body(exchange, redactor)
    return " ".join(parts)


def _body(exchange: Exchange, redactor: Redactor) -> list[str]:
    raw = exchange.request_body
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return [f"--data-binary @body.bin  # {len(raw)} bytes, not UTF-8: not shown"]
    if media_type(exchange.request_content_type) == "application/json":
        try:
            text = json.dumps(redactor.json(json.loads(text)), ensure_ascii=False)
        except ValueError:
            text = redactor.text(text)
    else:
        text = redactor.text(text)
    if len(text) > MAX_BODY_CHARS:
        text = text[:MAX_BODY_CHARS]
        return ["--data-raw", shlex.quote(text), f"# body cut to {MAX_BODY_CHARS} characters"]
    return ["--data-raw", shlex.quote(text)]
