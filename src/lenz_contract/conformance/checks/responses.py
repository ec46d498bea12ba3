"""Every answer, one at a time: listed status, JSON, the schema, and (strict) the documented
message and the strict schema.

Each exchange check gets the spec as the run's profile sees it (`Profile.view`): in the docs
profile, the DOCS view (any 2xx with the documented body, any 4xx, a token refusal with any
body; no inferred constraint); in the strict one, the STRICT view. schemathesis applies the
same rules to the answers it provoked; these checks apply them to the answers the Lenz checks
provoked, and the strict-only rules to every answer of the run.
"""

from __future__ import annotations

from typing import Any

from ...spec import Operation, Source, Spec, View
from ..results import Exchange
from .registry import DOCS, STRICT, exchange_check
from .run import as_json

SEMANTIC = ("semantic",)
TOKEN_REFUSALS = (400, 401, 403)
STRICT_SCHEMA_REASON = (
    "x-lenz-strict: the docs show one value of each and UTC timestamps; the strict profile "
    "admits the listed values and Z only"
)
MESSAGE_REASON = (
    "x-lenz-message: the docs show these texts in their examples; that they never vary is the "
    "strict profile's reading"
)
EVERY_PHASE = ("semantic", "generation")


def misfit(view: Spec, pointer: str, body: Any, headline: str) -> str | None:
    """Why `body` does not fit the schema at `pointer` in `view` (three reasons at most)."""
    errors = view.validator(pointer).errors(body, "response")
    return f"{headline}: " + "; ".join(str(e) for e in errors[:3]) if errors else None


@exchange_check(DOCS, SEMANTIC, pointer="#/components/schemas/SuccessEnvelope")
def response_conforms(spec: Spec, op: Operation, exchange: Exchange) -> str | None:
    """an answer has a status the profile allows (never 5xx), is JSON where a body is documented,
    and fits its schema"""
    status = exchange.status or 0
    if status >= 500:
        return f"answered {status}: a server error"
    if spec.view is View.DOCS and not exchange.sent_token() and status in TOKEN_REFUSALS:
        return None  # a token refusal, in the middleware's own words (the auth checks judge it)
    found = op.response_for(status)
    if found is None:
        return f"answered {status}, a status the contract does not allow for {op.operation_id}"
    content_type = (exchange.header("content-type") or "").split(";")[0].strip().lower()
    if found.schema_pointer is not None and content_type != "application/json":
        return f"answered Content-Type {content_type or 'none'!r}, not application/json"
    if found.schema_pointer is None:
        return None
    body = exchange.json()
    if body is None:
        return "the body is not JSON"
    return misfit(spec, found.schema_pointer, body, "the body does not fit the schema")


@exchange_check(STRICT, EVERY_PHASE, source=Source.INFERRED, reason=STRICT_SCHEMA_REASON)
def response_strict_schema(spec: Spec, op: Operation, exchange: Exchange) -> str | None:
    """answers keep the strict schema: the listed execution and node statuses and trigger types,
    UTC timestamps with Z"""
    found = op.response_for(exchange.status or 0)
    if found is None or found.schema_pointer is None:
        return None
    body = exchange.json()
    if body is None or misfit(spec.as_view(View.CONTRACT), found.schema_pointer, body, ""):
        return None  # a contract-level problem: response_conforms says it
    return misfit(
        spec.as_view(View.STRICT), found.schema_pointer, body, "outside the strict schema"
    )


@exchange_check(STRICT, EVERY_PHASE, source=Source.INFERRED, reason=MESSAGE_REASON)
def response_message(spec: Spec, op: Operation, exchange: Exchange) -> str | None:
    """a success answer carries the message the docs show for its operation"""
    status = exchange.status or 0
    if not 200 <= status < 300:
        return None
    found = op.response_for(status)
    if found is None or found.message is None:
        return None
    body = exchange.json()
    message = body.get("message") if isinstance(body, dict) else None
    if message != found.message:
        return f"message is {as_json(message)}, the docs show {as_json(found.message)}"
    return None
