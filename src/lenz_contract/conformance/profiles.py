"""The two profiles, as rules: which checks each asserts and what every rule rests on.

`docs` asserts what the docs promise plus universal HTTP rules; `strict` adds the decisions of
docs/contract-decisions.md. schemathesis generates from the spec as the profile sees it
(`Profile.view`): in `docs`, the DOCS view, where no inferred constraint is left, so "invalid
data must be refused" means invalid by what the docs state (malformed JSON, a documented field
of another JSON type, no token) and any 4xx will do; "valid data must be accepted" only holds
for the docs' own examples. In `strict`, the STRICT view: generated valid data must be accepted
and invalid data refused with 400 (or 401/404/413 where those apply).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..spec import Source
from ..spec.document import resolve_pointer
from .checks import load_all
from .context import Profile, RunContext
from .results import Rule

STRICT_NEGATIVE_STATUSES = ["400", "401", "404", "413"]


@dataclass(frozen=True)
class BuiltinCheck:
    """One of schemathesis's checks, as this project asserts it in each profile.

    `text`/`source`/`reason` describe the docs-profile rule; `strict_*` the strict one where it
    differs. `docs=False`: the docs profile does not assert it at all (its rule rests on a
    decision the docs do not make).
    """

    name: str
    text: str
    source: Source
    reason: str | None = None
    strict_text: str | None = None
    strict_source: Source | None = None
    strict_reason: str | None = None
    docs: bool = True

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
        level = "docs" if self.docs else "strict"
        return Rule(self.name, "schemathesis", level, self.source, self.text, self.reason)

    def asserted_in(self, profile: Profile) -> bool:
        return self.docs or profile is Profile.STRICT


BUILTIN: dict[str, BuiltinCheck] = {
    c.name: c
    for c in (
        BuiltinCheck("not_a_server_error", "no answer is a 5xx", Source.UNIVERSAL),
        BuiltinCheck(
            "status_code_conformance",
            "every answer is a success (2xx) or a refusal (4xx)",
            Source.UNIVERSAL,
            "the docs show success and error bodies only, with no statuses",
            strict_text="every status is one the contract lists for the operation",
            strict_source=Source.INFERRED,
            strict_reason="the contract's statuses are inferred (the docs list bodies only)",
        ),
        BuiltinCheck(
            "content_type_conformance",
            "answers with a documented body are application/json",
            Source.DOCUMENTED,
            "the docs: every documented response body is «application/json»",
        ),
        BuiltinCheck(
            "response_schema_conformance",
            "every answer fits the documented schema of its status (no inferred constraint)",
            Source.DOCUMENTED,
            "the docs' examples show each body",
            strict_text="every answer fits the contract's schema, with the strict overlays",
            strict_source=Source.INFERRED,
            strict_reason="x-lenz-strict and the inferred constraints are the contract's decisions",
        ),
        BuiltinCheck(
            "negative_data_rejection",
            "a request the docs make wrong (malformed JSON, a documented field of another JSON "
            "type) is refused with a 4xx",
            Source.DOCUMENTED,
            "the docs: «Use the request body type in TypeScript.»: each body field has a type",
            strict_text="a request the contract refuses is refused with 400 "
            "(401/404/413 where they apply)",
            strict_source=Source.INFERRED,
            strict_reason="docs/contract-decisions.md: bad body, bad query value, malformed JSON "
            "answer 400",
        ),
        BuiltinCheck(
            "positive_data_acceptance",
            "the docs' own example requests are accepted",
            Source.DOCUMENTED,
            "the docs' create and update examples",
            strict_text="every request the contract accepts is accepted (generated data too)",
            strict_source=Source.INFERRED,
            strict_reason="a spec written from docs cannot know every input a real server refuses",
        ),
        BuiltinCheck(
            "ignored_auth",
            "an operation refuses a request without the bearer token, or with a wrong one "
            "(401 or 403)",
            Source.INFERRED,
            "docs/contract-decisions.md: the docs require the token but not the status of a "
            "refusal (echo-jwt answers a missing one with 400); the Lenz auth checks judge the "
            "docs profile",
            docs=False,
        ),
        BuiltinCheck(
            "use_after_free",
            "a deleted workflow is gone for every operation (its logs too)",
            Source.INFERRED,
            "docs/contract-decisions.md: the logs of a deleted workflow may answer an empty page; "
            "crud_delete_removes judges the docs profile",
            docs=False,
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
    "missing_required_header",  # no required headers but Authorization (the auth checks have it)
    "unsupported_method",  # 405 on undeclared methods: strict `wrong_method_405`; never generated
    "allow_header_conformance",
    "object_level_authorization",  # needs a second identity
)


def generation_document(ctx: RunContext, operations: list[str]) -> dict[str, Any]:
    """The spec schemathesis generates from: the profile's view of the contract, with only
    `operations` (and links to them).

    Dropping an operation from the document (not only filtering it) matters: the stateful phase
    follows links to operations a filter left out. The view is derived once per contract, so it
    is copied before it is cut.
    """
    import copy

    document = copy.deepcopy(ctx.view.document)
    keep = set(operations)
    for path, item in list((document.get("paths") or {}).items()):
        for method in [m for m in item if isinstance(item[m], dict) and "operationId" in item[m]]:
            if item[method]["operationId"] not in keep:
                del item[method]
        if not any(isinstance(v, dict) and "operationId" in v for v in item.values()):
            del document["paths"][path]
    _drop_links(document, keep)
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


def builtin_names(ctx: RunContext) -> list[str]:
    """schemathesis's checks this run asserts."""
    return [
        name
        for name, check in BUILTIN.items()
        if check.asserted_in(ctx.profile) and not excluded(ctx, name, "schemathesis")
    ]


def all_check_names() -> list[str]:
    """Every check name a run knows (for `--exclude-check` and the reports)."""
    return [*BUILTIN, *load_all()]


def excluded(ctx: RunContext, name: str, family: str) -> bool:
    wanted = ctx.options.exclude_checks
    return name in wanted or family in wanted


def schemathesis_checks(ctx: RunContext) -> dict[str, Any]:
    """The `[checks]` table for a run (custom checks of other packages stay off)."""
    table: dict[str, Any] = {"enabled": False}
    for name, check in BUILTIN.items():
        enabled = check.asserted_in(ctx.profile) and not excluded(ctx, name, "schemathesis")
        table[name] = {"enabled": enabled}
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
    """The (operation, check) cells schemathesis's checks fill in this run.

    In the docs profile, "the docs' own examples are accepted" has a cell only where the docs
    give a request example that can reach the target (a body, on no made-up id).
    """
    return [
        (op, name)
        for op in operations
        for name in checks
        if not (name == "positive_data_acceptance" and op not in docs_examples_apply(ctx))
    ]


def docs_examples_apply(ctx: RunContext) -> set[str]:
    """Operations whose docs' request examples the docs profile asks the target to accept."""
    if ctx.profile is not Profile.DOCS:
        return set(ctx.spec.operations)
    on_ids = set(on_id(ctx))
    return {
        op.operation_id
        for op in ctx.spec.operations.values()
        if op.request_examples and op.operation_id not in on_ids
    }


def operation_overrides(ctx: RunContext) -> list[dict[str, Any]]:
    """Per-operation config: the docs' example ids (`wf-uuid-001`) are not on the target.

    In the docs profile an unknown id may be refused with any 4xx, so for operations on an id
    the docs' examples prove nothing about acceptance: only bodies and queries are asserted.
    """
    if ctx.profile is not Profile.DOCS:
        return []
    off = {"positive_data_acceptance": {"enabled": False}}
    return [{"include-operation-id": on_id(ctx), "phases": {"examples": {"checks": off}}}]
