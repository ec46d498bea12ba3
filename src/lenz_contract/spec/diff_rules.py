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
as oasdiff grades them. Operation-level changes have rules of their own (`OPERATION_RULES`).
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
    verdict: Verdict
    why: str

    def to_json(self) -> dict[str, str]:
        return {"verdict": self.verdict, "why": self.why}


@dataclass(frozen=True)
class Rule:
    clients: Judgement
    deployments: Judgement


def _rule(clients: tuple[Verdict, str], deployments: tuple[Verdict, str]) -> Rule:
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

UNDESCRIBED: dict[str, Rule] = {
    # A body that is no longer described (no content left) admits anything; one described for
    # the first time admits only that.
    "response-media-type-removed": _rule(
        (WARNING, "the body is no longer described: clients cannot rely on its shape"),
        (COMPATIBLE, "any body is now accepted"),
    ),
    "response-media-type-added": _rule(
        (COMPATIBLE, "the body is now described"),
        (BREAKING, "a deployment that passed OLD may answer another body"),
    ),
    "request-media-type-removed": _rule(
        (WARNING, "the body is no longer described: deployments may read it otherwise"),
        (COMPATIBLE, "the suite no longer sends a described body"),
    ),
    "request-media-type-added": _rule(
        (BREAKING, "requests built for OLD may send a body NEW refuses"),
        (BREAKING, "the suite may now send a body OLD did not describe, or refuse one"),
    ),
}

WHY = {
    ("clients", "request", "tighten"): (BREAKING, "a request built for OLD may now be refused"),
    ("clients", "request", "loosen"): (COMPATIBLE, "every request valid under OLD stays valid"),
    ("clients", "request", "change"): (BREAKING, "a request built for OLD may now be refused"),
    ("clients", "response", "tighten"): (
        COMPATIBLE,
        "answers stay within what clients built for OLD expect",
    ),
    ("clients", "response", "loosen"): (
        BREAKING,
        "an answer may now hold what clients built for OLD do not expect",
    ),
    ("clients", "response", "soft"): (
        WARNING,
        "clients that handle every documented value may meet one they do not know",
    ),
    ("clients", "response", "change"): (
        BREAKING,
        "an answer may now hold what clients built for OLD do not expect",
    ),
    ("deployments", "request", "tighten"): (
        BREAKING,
        "the suite may now send a request OLD allowed and expect it refused (negative data)",
    ),
    ("deployments", "request", "loosen"): (
        COMPATIBLE,
        "the docs profile asserts acceptance of the docs' own examples only",
    ),
    ("deployments", "request", "change"): (
        BREAKING,
        "the suite may now send a request OLD allowed and expect it refused (negative data)",
    ),
    ("deployments", "response", "tighten"): (
        BREAKING,
        "a deployment that passed OLD may give an answer NEW refuses",
    ),
    ("deployments", "response", "loosen"): (
        COMPATIBLE,
        "every answer that passed OLD passes NEW",
    ),
    ("deployments", "response", "change"): (
        BREAKING,
        "a deployment that passed OLD may give an answer NEW refuses",
    ),
}

SCHEMA_EFFECTS: dict[str, tuple[Effect, bool]] = {
    # kind (without the request-/response- prefix): (effect, soft)
    "property-added": ("tighten", False),  # see `judge`: it depends on `required` and the object
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


def schema_kind(kind: str) -> str:
    """`request-max-length-tightened` → `bound-tightened`; others unchanged (no side)."""
    base = kind.split("-", 1)[1]
    for suffix in ("tightened", "loosened", "changed"):
        if base.endswith(f"-{suffix}") and base not in SCHEMA_EFFECTS:
            return f"bound-{suffix}"
    return base


def judge(kind: str, flags: frozenset[str] = frozenset()) -> Rule:
    """The verdicts of a change of `kind`. `flags` says what the view that saw it says of the
    property: `required` (a property added as required), `open` (added to, or removed from, an
    object that admits unknown properties: removing one then only stops describing it, adding
    one starts constraining a key that was free)."""
    if "undescribed" in flags and kind in UNDESCRIBED:
        return UNDESCRIBED[kind]
    if kind in OPERATION_RULES:
        return OPERATION_RULES[kind]
    side = kind.split("-", 1)[0]
    effect, soft = SCHEMA_EFFECTS[schema_kind(kind)]
    if kind == "request-property-removed":
        if "open" in flags:
            return _rule(
                (WARNING, "it is no longer described; a deployment following NEW may drop it"),
                (COMPATIBLE, "the suite no longer checks it"),
            )
        effect = "tighten"  # a closed request object now refuses it
    if kind.endswith("-property-added"):
        return _property_added(side, flags)
    client_key = "soft" if soft and side == "response" and effect == "loosen" else effect
    clients = CLIENT_WORDS.get(kind, WHY[("clients", side, client_key)])
    deployments = DEPLOYMENT_WORDS.get(kind, WHY[("deployments", side, effect)])
    return _rule(clients, deployments)


def _property_added(side: str, flags: frozenset[str]) -> Rule:
    required = "required" in flags
    if side == "response":
        if required:
            return _rule(
                (COMPATIBLE, "a new field in every answer; clients built for OLD ignore it"),
                (BREAKING, "a deployment that passed OLD may leave it out of its answers"),
            )
        return _rule(
            (COMPATIBLE, "a new optional field; clients built for OLD ignore it"),
            (
                COMPATIBLE,
                "a new optional field; only a deployment already sending it with another type "
                "could fail",
            ),
        )
    if required:
        return _rule(
            (BREAKING, "requests built for OLD lack it and are now refused"),
            (BREAKING, "the suite may now send a request without it and expect a refusal"),
        )
    if "open" in flags:
        return _rule(
            (COMPATIBLE, "optional: requests without it stay valid"),
            (
                BREAKING,
                "the suite may now send it with another JSON type and expect a refusal "
                "(a deployment that ignores unknown fields would accept it)",
            ),
        )
    return _rule(
        (COMPATIBLE, "optional: requests without it stay valid, and it is now admitted"),
        (COMPATIBLE, "nothing OLD accepted is refused"),
    )


CLIENT_WORDS: dict[str, tuple[Verdict, str]] = {
    "response-property-removed": (
        BREAKING,
        "clients built for OLD may read a field that answers no longer carry",
    ),
    "response-property-became-optional": (
        BREAKING,
        "clients built for OLD may read a field that answers may now leave out",
    ),
    "response-type-widened": (
        BREAKING,
        "a field may now hold a type (null, say) that clients built for OLD do not handle",
    ),
    "request-property-became-required": (
        BREAKING,
        "requests built for OLD may leave it out and are now refused",
    ),
    "request-property-removed": (
        BREAKING,
        "requests built for OLD that send it are now refused (the object is closed)",
    ),
}
DEPLOYMENT_WORDS: dict[str, tuple[Verdict, str]] = {
    "response-property-became-required": (
        BREAKING,
        "a deployment that passed OLD may leave it out of its answers",
    ),
    "response-enum-value-removed": (
        BREAKING,
        "a deployment that passed OLD may answer the value NEW no longer admits",
    ),
    "response-enum-added": (
        BREAKING,
        "a deployment that passed OLD may answer a value outside the new enum",
    ),
}


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
