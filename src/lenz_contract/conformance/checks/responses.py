"""Every answer, one at a time: listed status, JSON, the schema, and (strict) the documented
message and the strict enums.

schemathesis applies the docs-level rules to the answers it provoked; these exchange checks apply
them to the answers the Lenz checks provoked, and the strict-only rules to every answer of the run.
"""

from __future__ import annotations

from ...spec import Operation, Spec
from ..context import Profile, Source
from ..results import Exchange
from . import exchange_check

SEMANTIC = ("semantic",)
ALL = ("semantic", "generation")


@exchange_check(
    family="responses",
    profile=Profile.DOCS,
    rule="an answer has a status the contract lists (never 5xx), is JSON and fits its schema",
    phases=SEMANTIC,
    pointer="#/components/schemas/SuccessEnvelope",
)
def response_conforms(spec: Spec, op: Operation, exchange: Exchange) -> str | None:
    status = exchange.status or 0
    if status >= 500:
        return f"answered {status}: a server error"
    found = op.response_for(status)
    if found is None:
        return f"answered {status}, a status the contract does not list for {op.operation_id}"
    content_type = (exchange.header("content-type") or "").split(";")[0].strip().lower()
    if found.schema_pointer is not None and content_type != "application/json":
        return f"answered Content-Type {content_type or 'none'!r}, not application/json"
    body = exchange.json()
    if found.schema_pointer is None:
        return None
    if body is None:
        return "the body is not JSON"
    errors = spec.validator(found.schema_pointer).errors(body, "response")
    if errors:
        return "the body does not fit the schema: " + "; ".join(str(e) for e in errors[:3])
    return None


@exchange_check(
    family="responses",
    profile=Profile.STRICT,
    rule="answers keep the strict enums (execution and node statuses, trigger types)",
    phases=ALL,
    source=Source.INFERRED,
    reason="x-lenz-strict: the docs show one value of each; the strict profile admits the listed ones",
)
def response_strict_enums(spec: Spec, op: Operation, exchange: Exchange) -> str | None:
    found = op.response_for(exchange.status or 0)
    if found is None or found.schema_pointer is None:
        return None
    body = exchange.json()
    if body is None or not spec.validator(found.schema_pointer).is_valid(body):
        return None  # a docs-level problem; response_conforms / response_schema_conformance say it
    errors = spec.validator(found.schema_pointer, strict=True).errors(body, "response")
    if errors:
        return "outside the strict enums: " + "; ".join(str(e) for e in errors[:3])
    return None


@exchange_check(
    family="responses",
    profile=Profile.STRICT,
    rule="a success answer carries the documented message",
    phases=ALL,
    source=Source.DOCUMENTED,
    reason="x-lenz-message: the message the docs show for each operation",
)
def response_message(spec: Spec, op: Operation, exchange: Exchange) -> str | None:
    status = exchange.status or 0
    if not 200 <= status < 300:
        return None
    found = op.response_for(status)
    if found is None or found.message is None:
        return None
    body = exchange.json()
    message = body.get("message") if isinstance(body, dict) else None
    if message != found.message:
        return f"message is {message!r}, the docs say {found.message!r}"
    return None
