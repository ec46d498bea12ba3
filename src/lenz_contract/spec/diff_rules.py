"""Which contract changes break whom: the rules of `lenz-contract diff`.

Two audiences, judged on two views of the contract:
- **clients** (a frontend, a generated client) read the contract as written: a change breaks
  them when a request they build may now be refused, or an answer may now hold what they do not
  expect (a field removed or made optional, a wider type, a removed operation or status);
- **deployments** (judged by the conformance suite's docs profile) are held to the DOCS view:
  a change breaks them when a deployment that passed OLD could now fail: an answer OLD admitted
  that NEW refuses (a new required answer field, a narrower answer enum, a removed status, a new
  constraint the docs profile asserts), a new operation to implement, a request OLD allowed that
  the suite may now send expecting a refusal (a tighter request rule).

Each schema change has an *effect* on what is admitted: `tighten` (NEW admits less), `loosen`
(NEW admits more) or `change` (both). Its verdicts follow from the effect and the side (request
or response); a few loosenings of answers are `soft` (a new enum value, a looser bound): clients
that handle every documented value may meet one they do not know, a warning rather than a break,
as oasdiff grades them (`SCHEMA_RULES`). Operation-level changes have rules of their own
(`OPERATION_RULES`), and so have the schema changes whose words or verdicts depend on the kind
or its flags (`KIND_RULES`).
The rules follow oasdiff's breaking-change checks where this contract has their subject.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Verdict = Literal["breaking", "warning", "compatible"]
Effect = Literal["tighten", "loosen", "change"]
BREAKING: Verdict = "breaking"
WARNING: Verdict = "warning"
COMPATIBLE: Verdict = "compatible"


@dataclass(frozen=True)
class Judgement:
    """One audience's verdict on a change, and why (as the report prints it)."""

    verdict: Verdict
    why: str


@dataclass(frozen=True)
class Rule:
    clients: Judgement
    deployments: Judgement


Said = tuple[Verdict, str]
"""A verdict and why, as the tables write it."""


def _rule(clients: Said, deployments: Said) -> Rule:
    return Rule(Judgement(*clients), Judgement(*deployments))


OPERATION_RULES: dict[str, Rule] = {
    "operation-removed": _rule(
        (BREAKING, "clients that call it get an error from deployments that follow NEW"),
        (COMPATIBLE, "the suite no longer tests it"),
    ),
    "operation-added": _rule(
        (COMPATIBLE, "a new operation; no client has to call it"),
        (BREAKING, "the suite now tests it: a deployment that passed OLD may not implement it"),
    ),
    "operation-id-changed": _rule(
        (BREAKING, "generated clients rename the function that calls it"),
        (COMPATIBLE, "the suite finds operations by method and path"),
    ),
    "security-added": _rule(
        (BREAKING, "requests without credentials, valid under OLD, are now refused"),
        (BREAKING, "the suite now asserts that a request without the token is refused"),
    ),
    "security-removed": _rule(
        (COMPATIBLE, "credentials are no longer needed; sending them does no harm"),
        (COMPATIBLE, "the suite no longer asserts a refusal without the token"),
    ),
    "security-changed": _rule(
        (BREAKING, "the operation asks for other credentials"),
        (BREAKING, "the suite authenticates otherwise"),
    ),
    "security-scheme-changed": _rule(
        (BREAKING, "the credentials are sent another way (type, scheme or place)"),
        (BREAKING, "the suite authenticates another way"),
    ),
    "request-required-parameter-added": _rule(
        (BREAKING, "a call without it, valid under OLD, is now refused"),
        (BREAKING, "the suite may send a request without it and expect a refusal"),
    ),
    "request-optional-parameter-added": _rule(
        (COMPATIBLE, "an optional parameter; calls without it stay valid"),
        (COMPATIBLE, "the docs profile sends it only as the docs' examples do"),
    ),
    "request-parameter-removed": _rule(
        (WARNING, "clients still sending it may see it ignored or refused"),
        (COMPATIBLE, "the suite no longer sends it"),
    ),
    "request-parameter-became-required": _rule(
        (BREAKING, "a call without it, valid under OLD, is now refused"),
        (BREAKING, "the suite may send a request without it and expect a refusal"),
    ),
    "request-parameter-became-optional": _rule(
        (COMPATIBLE, "calls with it stay valid"),
        (COMPATIBLE, "nothing OLD accepted is refused"),
    ),
    "request-required-body-added": _rule(
        (BREAKING, "a call without a body, valid under OLD, is now refused"),
        (BREAKING, "the suite may send a request without a body and expect a refusal"),
    ),
    "request-optional-body-added": _rule(
        (COMPATIBLE, "an optional body; calls without one stay valid"),
        (COMPATIBLE, "nothing OLD accepted is refused"),
    ),
    "request-body-removed": _rule(
        (WARNING, "clients still sending a body may see it ignored or refused"),
        (COMPATIBLE, "the suite no longer sends one"),
    ),
    "request-body-became-required": _rule(
        (BREAKING, "a call without a body, valid under OLD, is now refused"),
        (BREAKING, "the suite may send a request without a body and expect a refusal"),
    ),
    "request-body-became-optional": _rule(
        (COMPATIBLE, "calls with a body stay valid"),
        (COMPATIBLE, "nothing OLD accepted is refused"),
    ),
    "request-media-type-added": _rule(
        (COMPATIBLE, "one more way to send the body"),
        (COMPATIBLE, "the docs profile sends the docs' examples only"),
    ),
    "request-media-type-removed": _rule(
        (BREAKING, "clients sending the body this way are now refused"),
        (BREAKING, "the suite may send this media type and expect a refusal"),
    ),
    "response-status-added": _rule(
        (WARNING, "clients may meet an answer they do not handle"),
        (COMPATIBLE, "one more answer a deployment may give"),
    ),
    "response-status-removed": _rule(
        (BREAKING, "clients built for NEW do not handle an answer deployments may still give"),
        (BREAKING, "a deployment giving this answer now fails the status check"),
    ),
    "response-media-type-added": _rule(
        (WARNING, "clients may receive a body in a form they do not read"),
        (COMPATIBLE, "one more form a deployment may answer in"),
    ),
    "response-media-type-removed": _rule(
        (BREAKING, "clients built for NEW do not read a form deployments may still answer in"),
        (BREAKING, "a deployment answering in this form now fails the content-type check"),
    ),
}

# -- schema changes: judged by their effect on what is admitted, on the request or answer side

REQUEST_REFUSED: Said = (BREAKING, "a request built for OLD may now be refused")
REQUEST_STAYS_VALID: Said = (COMPATIBLE, "every request valid under OLD stays valid")
ANSWER_AS_EXPECTED: Said = (COMPATIBLE, "answers stay within what clients built for OLD expect")
ANSWER_UNEXPECTED: Said = (
    BREAKING,
    "an answer may now hold what clients built for OLD do not expect",
)
VALUE_UNKNOWN: Said = (
    WARNING,
    "clients that handle every documented value may meet one they do not know",
)
SUITE_EXPECTS_REFUSAL: Said = (
    BREAKING,
    "the suite may now send a request OLD allowed and expect it refused (negative data)",
)
SUITE_SENDS_EXAMPLES: Said = (
    COMPATIBLE,
    "the docs profile asserts acceptance of the docs' own examples only",
)
ANSWER_REFUSED: Said = (BREAKING, "a deployment that passed OLD may give an answer NEW refuses")
ANSWER_PASSES: Said = (COMPATIBLE, "every answer that passed OLD passes NEW")

SCHEMA_RULES: dict[tuple[str, Effect | Literal["soft"]], Rule] = {
    # (side, effect): the rule for (clients, deployments); `soft`: an answer loosened in a way
    # clients may not know (a new enum value, a looser bound), a warning rather than a break
    ("request", "tighten"): _rule(REQUEST_REFUSED, SUITE_EXPECTS_REFUSAL),
    ("request", "loosen"): _rule(REQUEST_STAYS_VALID, SUITE_SENDS_EXAMPLES),
    ("request", "change"): _rule(REQUEST_REFUSED, SUITE_EXPECTS_REFUSAL),
    ("response", "tighten"): _rule(ANSWER_AS_EXPECTED, ANSWER_REFUSED),
    ("response", "loosen"): _rule(ANSWER_UNEXPECTED, ANSWER_PASSES),
    ("response", "soft"): _rule(VALUE_UNKNOWN, ANSWER_PASSES),
    ("response", "change"): _rule(ANSWER_UNEXPECTED, ANSWER_REFUSED),
}

SCHEMA_EFFECTS: dict[str, tuple[Effect, bool]] = {
    # kind (without the request-/response- prefix): (effect, soft)
    "property-added": ("tighten", False),  # its rules are in KIND_RULES: `required`, `open`
    "property-removed": ("loosen", False),
    "property-became-required": ("tighten", False),
    "property-became-optional": ("loosen", False),
    "type-narrowed": ("tighten", False),
    "type-widened": ("loosen", False),
    "type-changed": ("change", False),
    "format-added": ("tighten", False),
    "format-removed": ("loosen", True),
    "format-changed": ("change", False),
    "enum-added": ("tighten", False),
    "enum-removed": ("loosen", True),
    "enum-value-added": ("loosen", True),
    "enum-value-removed": ("tighten", False),
    "pattern-added": ("tighten", False),
    "pattern-removed": ("loosen", True),
    "pattern-changed": ("change", False),
    "additional-properties-closed": ("tighten", False),
    "additional-properties-opened": ("loosen", True),
    "union-branch-added": ("loosen", True),
    "union-branch-removed": ("tighten", False),
    "bound-tightened": ("tighten", False),
    "bound-loosened": ("loosen", True),
    "bound-changed": ("change", False),
}

# -- kinds with words of their own --------------------------------------------------------------

FLAGS = ("undescribed", "required", "open")
"""What the view that saw a change says of it, in the order they decide its rule:
`undescribed` (a body with no content left, or none before: it admits anything), `required`
(a property added as required), `open` (added to, or removed from, an object that admits
unknown properties: removing one then only stops describing it, adding one starts constraining
a key that was free)."""

KIND_RULES: dict[tuple[str, str], Rule] = {
    # (kind, the first of FLAGS the change has, or "" for any): its rule
    ("response-media-type-removed", "undescribed"): _rule(
        (WARNING, "the body is no longer described: clients cannot rely on its shape"),
        (COMPATIBLE, "any body is now accepted"),
    ),
    ("response-media-type-added", "undescribed"): _rule(
        (COMPATIBLE, "the body is now described"),
        (BREAKING, "a deployment that passed OLD may answer another body"),
    ),
    ("request-media-type-removed", "undescribed"): _rule(
        (WARNING, "the body is no longer described: deployments may read it otherwise"),
        (COMPATIBLE, "the suite no longer sends a described body"),
    ),
    ("request-media-type-added", "undescribed"): _rule(
        (BREAKING, "requests built for OLD may send a body NEW refuses"),
        (BREAKING, "the suite may now send a body OLD did not describe, or refuse one"),
    ),
    ("response-property-added", "required"): _rule(
        (COMPATIBLE, "a new field in every answer; clients built for OLD ignore it"),
        (BREAKING, "a deployment that passed OLD may leave it out of its answers"),
    ),
    ("response-property-added", ""): _rule(
        (COMPATIBLE, "a new optional field; clients built for OLD ignore it"),
        (
            COMPATIBLE,
            "a new optional field; only a deployment already sending it with another type "
            "could fail",
        ),
    ),
    ("request-property-added", "required"): _rule(
        (BREAKING, "requests built for OLD lack it and are now refused"),
        (BREAKING, "the suite may now send a request without it and expect a refusal"),
    ),
    ("request-property-added", "open"): _rule(
        (COMPATIBLE, "optional: requests without it stay valid"),
        (
            BREAKING,
            "the suite may now send it with another JSON type and expect a refusal "
            "(a deployment that ignores unknown fields would accept it)",
        ),
    ),
    ("request-property-added", ""): _rule(
        (COMPATIBLE, "optional: requests without it stay valid, and it is now admitted"),
        (COMPATIBLE, "nothing OLD accepted is refused"),
    ),
    ("request-property-removed", "open"): _rule(
        (WARNING, "it is no longer described; a deployment following NEW may drop it"),
        (COMPATIBLE, "the suite no longer checks it"),
    ),
    ("request-property-removed", ""): _rule(
        (BREAKING, "requests built for OLD that send it are now refused (the object is closed)"),
        SUITE_EXPECTS_REFUSAL,
    ),
    ("request-property-became-required", ""): _rule(
        (BREAKING, "requests built for OLD may leave it out and are now refused"),
        SUITE_EXPECTS_REFUSAL,
    ),
    ("response-property-removed", ""): _rule(
        (BREAKING, "clients built for OLD may read a field that answers no longer carry"),
        ANSWER_PASSES,
    ),
    ("response-property-became-optional", ""): _rule(
        (BREAKING, "clients built for OLD may read a field that answers may now leave out"),
        ANSWER_PASSES,
    ),
    ("response-type-widened", ""): _rule(
        (
            BREAKING,
            "a field may now hold a type (null, say) that clients built for OLD do not handle",
        ),
        ANSWER_PASSES,
    ),
    ("response-property-became-required", ""): _rule(
        ANSWER_AS_EXPECTED,
        (BREAKING, "a deployment that passed OLD may leave it out of its answers"),
    ),
    ("response-enum-value-removed", ""): _rule(
        ANSWER_AS_EXPECTED,
        (BREAKING, "a deployment that passed OLD may answer the value NEW no longer admits"),
    ),
    ("response-enum-added", ""): _rule(
        ANSWER_AS_EXPECTED,
        (BREAKING, "a deployment that passed OLD may answer a value outside the new enum"),
    ),
}


def schema_kind(kind: str) -> str:
    """`request-max-length-tightened` → `bound-tightened`; others unchanged (no side)."""
    base = kind.split("-", 1)[1]
    for suffix in ("tightened", "loosened", "changed"):
        if base.endswith(f"-{suffix}") and base not in SCHEMA_EFFECTS:
            return f"bound-{suffix}"
    return base


def judge(kind: str, flags: frozenset[str] = frozenset()) -> Rule:
    """The verdicts of a change of `kind`; `flags` (see FLAGS) say what the view that saw it
    says of it. A kind's own rule first, then the operation rules, then its effect's."""
    for flag in (*(f for f in FLAGS if f in flags), ""):
        own = KIND_RULES.get((kind, flag))
        if own is not None:
            return own
    if kind in OPERATION_RULES:
        return OPERATION_RULES[kind]
    side = kind.split("-", 1)[0]
    effect, soft = SCHEMA_EFFECTS[schema_kind(kind)]
    soft_answer = soft and side == "response" and effect == "loosen"
    return SCHEMA_RULES[(side, "soft" if soft_answer else effect)]


def known_kinds() -> list[str]:
    """Every kind a change can have (for documentation and the corpus's checks)."""
    kinds = list(OPERATION_RULES)
    for side in ("request", "response"):
        for base in SCHEMA_EFFECTS:
            if base.startswith("bound-"):
                continue
            kinds.append(f"{side}-{base}")
        for bound in BOUNDS:
            for suffix in ("tightened", "loosened"):
                kinds.append(f"{side}-{kebab(bound)}-{suffix}")
    return kinds


BOUNDS = (
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "minProperties",
    "maxProperties",
)
UPPER_BOUNDS = frozenset({"maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties"})


def kebab(keyword: str) -> str:
    return "".join(f"-{c.lower()}" if c.isupper() else c for c in keyword)
