"""The two profiles, as rules: which checks each asserts and what every rule rests on.

`docs` asserts what the docs promise plus universal HTTP rules; `strict` adds the decisions of
CONTRACT-DECISIONS.md. For schemathesis's own checks this module says how to configure them per
profile: in `docs`, "valid data must be accepted" only holds for the docs' own examples (a spec
written from docs cannot know every input a real server refuses), and invalid data may be
refused with any 4xx; in `strict`, generated valid data must be accepted and invalid data
refused with 400 (or 401/404/413 where those apply).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from ..spec.document import resolve_pointer
from .checks import EXCHANGE_CHECKS, REGISTRY, load_all
from .context import Profile, RunContext, Source
from .results import Rule

STRICT_NEGATIVE_STATUSES = ["400", "401", "404", "413"]


@dataclass(frozen=True)
class BuiltinCheck:
    """One of schemathesis's checks, as this project asserts it."""

    name: str
    text: str
    source: Source
    reason: str | None = None
    strict_text: str | None = None
    strict_source: Source | None = None
    strict_reason: str | None = None

    def rule(self, profile: Profile) -> Rule:
        if profile is Profile.STRICT and self.strict_text is not None:
            return Rule(
                self.name,
                "schemathesis",
                "strict",
                self.strict_source or self.source,
                self.strict_text,
                self.strict_reason,
            )
        return Rule(self.name, "schemathesis", "docs", self.source, self.text, self.reason)


BUILTIN: dict[str, BuiltinCheck] = {
    c.name: c
    for c in (
        BuiltinCheck("not_a_server_error", "no answer is a 5xx", Source.UNIVERSAL),
        BuiltinCheck(
            "status_code_conformance",
            "every status is one the contract lists for the operation",
            Source.INFERRED,
            "the docs show bodies without statuses; the contract lists 200/201 and any 4xx",
        ),
        BuiltinCheck(
            "content_type_conformance",
            "answers are application/json",
            Source.DOCUMENTED,
            "every documented response body is application/json",
        ),
        BuiltinCheck(
            "response_schema_conformance",
            "every answer fits the documented schema of its status",
            Source.DOCUMENTED,
        ),
        BuiltinCheck(
            "negative_data_rejection",
            "a request the contract refuses is refused with a 4xx",
            Source.INFERRED,
            "the request schemas are read from the docs' examples (required fields are inferred)",
            strict_text="a request the contract refuses is refused with 400 (401/404/413 where they apply)",
            strict_reason="CONTRACT-DECISIONS: bad body, bad query value, malformed JSON answer 400",
        ),
        BuiltinCheck(
            "positive_data_acceptance",
            "the docs' own example requests are accepted",
            Source.DOCUMENTED,
            strict_text="every request the contract accepts is accepted (generated data too)",
            strict_source=Source.INFERRED,
            strict_reason="a spec written from docs cannot know every input a real server refuses",
        ),
        BuiltinCheck(
            "ignored_auth",
            "an operation that needs the bearer token refuses a request without it",
            Source.DOCUMENTED,
            "Semua endpoint memerlukan header Authorization: Bearer <token>",
        ),
        BuiltinCheck(
            "use_after_free",
            "a deleted workflow is gone for every operation",
            Source.UNIVERSAL,
        ),
        BuiltinCheck(
            "ensure_resource_availability",
            "a created workflow is available to the operations its links name",
            Source.UNIVERSAL,
        ),
    )
}

DISABLED_BUILTINS = (
    "response_headers_conformance",  # the contract declares no response headers
    "missing_required_header",  # no required headers but Authorization (ignored_auth has it)
    "unsupported_method",  # 405 on undeclared methods: the docs say nothing; never sent (guard)
    "allow_header_conformance",
    "object_level_authorization",  # needs a second identity
)


# Keywords of the spec that only the strict profile asserts, although they sit in the schemas
# (CONTRACT-DECISIONS.md, "what the docs profile accepts"). The docs profile generates from the
# spec without them, so a deployment that does not validate cron is not failed for it.
DOCS_UNASSERTED: dict[str, tuple[str, ...]] = {
    "#/components/schemas/CronExpression": ("type", "pattern"),  # cron: "not checked" in docs
}


def generation_document(ctx: RunContext, operations: list[str]) -> dict[str, Any]:
    """The spec schemathesis generates from: the shipped one, with only `operations` (and links
    to them), relaxed for the docs profile.

    Dropping an operation from the document (not only filtering it) matters: the stateful phase
    follows links to operations a filter left out.
    """
    document = copy.deepcopy(ctx.spec.document)
    keep = set(operations)
    for path, item in list((document.get("paths") or {}).items()):
        for method in [m for m in item if isinstance(item[m], dict) and "operationId" in item[m]]:
            if item[method]["operationId"] not in keep:
                del item[method]
        if not any(isinstance(v, dict) and "operationId" in v for v in item.values()):
            del document["paths"][path]
    _drop_links(document, keep)
    if ctx.profile is Profile.DOCS:
        for pointer, keywords in DOCS_UNASSERTED.items():
            node = resolve_pointer(document, pointer)
            for keyword in keywords:
                node.pop(keyword, None)
    return document


def _drop_links(document: dict[str, Any], keep: set[str]) -> None:
    """Remove links (inline or `$ref`ed) whose target operation is not kept."""
    found: list[tuple[dict[str, Any], str, str | None]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            links = node.get("links")
            if isinstance(links, dict):
                for name, link in links.items():
                    if isinstance(link, dict) and isinstance(link.get("$ref"), str):
                        link = resolve_pointer(document, link["$ref"])
                    target = link.get("operationId") if isinstance(link, dict) else None
                    found.append((links, name, target))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(document)
    for links, name, target in found:  # resolved first: a shared link may go in the same pass
        if target is not None and target not in keep:
            links.pop(name, None)


def all_check_names() -> list[str]:
    """Every check name a run knows (for `--exclude-check` and the reports)."""
    load_all()
    return [*BUILTIN, *REGISTRY, *EXCHANGE_CHECKS]


def excluded(ctx: RunContext, name: str, family: str) -> bool:
    wanted = ctx.options.exclude_checks
    return name in wanted or family in wanted


def schemathesis_checks(ctx: RunContext) -> dict[str, Any]:
    """The `[checks]` table for a run (custom checks of other packages stay off)."""
    table: dict[str, Any] = {"enabled": False}
    for name in BUILTIN:
        table[name] = {"enabled": not excluded(ctx, name, "schemathesis")}
    for name in DISABLED_BUILTINS:
        table[name] = {"enabled": False}
    if ctx.profile is Profile.STRICT:
        table["negative_data_rejection"]["expected-statuses"] = STRICT_NEGATIVE_STATUSES
    else:
        table["negative_data_rejection"]["expected-statuses"] = ["4xx"]
        table["positive_data_acceptance"] = {"enabled": False}
    return table


def examples_phase_checks(ctx: RunContext) -> dict[str, Any]:
    """In the docs profile, the docs' own examples must be accepted (and only they)."""
    if excluded(ctx, "positive_data_acceptance", "schemathesis"):
        return {}
    return {"positive_data_acceptance": {"enabled": True}}


def on_id(ctx: RunContext) -> list[str]:
    """Operations on one workflow (`/api/workflows/{id}...`)."""
    return [
        op.operation_id
        for op in ctx.spec.operations.values()
        if any(p.location == "path" for p in op.parameters)
    ]


def builtin_cells(
    ctx: RunContext, operations: list[str], checks: list[str]
) -> list[tuple[str, str]]:
    """The (operation, check) cells schemathesis's checks fill in this run."""
    docs_on_id = set(on_id(ctx)) if ctx.profile is Profile.DOCS else set()
    return [
        (op, name)
        for op in operations
        for name in checks
        if not (name == "positive_data_acceptance" and op in docs_on_id)
    ]


def operation_overrides(ctx: RunContext) -> list[dict[str, Any]]:
    """Per-operation config: the docs' example ids (`wf-uuid-001`) are not on the target.

    In the docs profile an unknown id may be refused with any 4xx, so for operations on an id
    the docs' examples prove nothing about acceptance: only bodies and queries are asserted.
    """
    if ctx.profile is not Profile.DOCS:
        return []
    off = {"positive_data_acceptance": {"enabled": False}}
    return [{"include-operation-id": on_id(ctx), "phases": {"examples": {"checks": off}}}]
