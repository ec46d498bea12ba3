"""What a broken rule looks like, whichever engine found it.

A check produces `Finding`s (engine-neutral: direction, JSON path, rule, expected, actual,
provenance); the monitor turns each into a `Violation` by adding the exchange's context (time,
operation, URL, a redacted curl). Both engines describe schema errors through the same
`schema_findings`, so the same fault gets the same path and the same words, and the monitor can
report it once.

Provenance (`documented` / `inferred`) is read from the spec where the rule lives:
- a schema keyword: the spec's provenance of that keyword (`spec.provenance_at`: inferred when
  its object's `x-lenz-inferred` names it, else the nearest `x-lenz-source`), else the
  response's, else the operation's;
- the status code: the sources of the operation's documented responses;
- content type and JSON-ness of a body, parameters and security: the operation or the object
  that declares them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

from ..spec import Source, SpecError, provenance_at

Direction = Literal["request", "response"]
ACTUAL_LIMIT = 160


@dataclass(frozen=True)
class Finding:
    """One broken rule in one exchange, before the exchange's context is attached."""

    direction: Direction
    path: str
    rule: str
    expected: str
    actual: str
    source: str | None
    spec: str | None = None
    rests_on: tuple[int, ...] = ()
    """The exchanges a finding rests on (a semantic check across exchanges: the PUT and the
    read that does not show it); empty for a schema finding about the exchange itself."""
    basis: str | None = None
    """What the rule rests on, in words (`documented: «...»`, `universal: RFC 9110 ...`)."""


@dataclass(frozen=True)
class Violation:
    """A finding with its context: one JSONL line, one console line, one report entry."""

    time: str
    exchange: int
    operation: str
    method: str
    url: str
    status: int
    direction: Direction
    path: str
    rule: str
    expected: str
    actual: str
    source: str
    spec: str | None
    engine: str
    curl: str
    rests_on: tuple[int, ...] = ()
    basis: str | None = None

    @property
    def message(self) -> str:
        return f"{self.path}: expected {self.expected}, got {self.actual}"

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["rests_on"] = list(self.rests_on)
        data["message"] = self.message
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Violation:
        """Read a JSONL record back (`proxy report`); missing fields become empty."""
        fields = {
            "time": "",
            "exchange": 0,
            "operation": "?",
            "method": "",
            "url": "",
            "status": 0,
            "direction": "response",
            "path": "",
            "rule": "",
            "expected": "",
            "actual": "",
            "source": "unknown",
            "spec": None,
            "engine": "",
            "curl": "",
        }
        values = {key: data.get(key, default) for key, default in fields.items()}
        if values["direction"] not in ("request", "response"):
            values["direction"] = "response"
        rests_on = data.get("rests_on")
        exchanges = tuple(
            n for n in (rests_on if isinstance(rests_on, list) else []) if isinstance(n, int)
        )
        basis = data.get("basis")
        return cls(**values, rests_on=exchanges, basis=basis if isinstance(basis, str) else None)

    def console_line(self) -> str:
        line = (
            f"VIOLATION {self.operation} {self.direction} {self.message} "
            f"[{self.source}] ({self.method} {self.url} -> {self.status})"
        )
        if self.rests_on and self.rests_on != (self.exchange,):
            line += " rests on exchanges " + ", ".join(f"#{n}" for n in self.rests_on)
        return line


def short_json(value: Any, limit: int = ACTUAL_LIMIT) -> str:
    """A value as JSON text, cut to `limit` characters (`"abc"`, `123`, `{"a": 1, ...`)."""
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def join_path(prefix: str, parts: Sequence[str | int]) -> str:
    """`("body", ["data", 0, "id"])` → `body.data[0].id` (odd keys as `["a b"]`)."""
    out = prefix
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part.isidentifier():
            out += f".{part}" if out else part
        else:
            out += f"[{json.dumps(part)}]"
    return out


def escape_pointer(part: str | int) -> str:
    return str(part).replace("~", "~0").replace("/", "~1")


# --- what a schema accepts, in words ----------------------------------------------------------


def _deref(document: dict[str, Any], node: Any) -> tuple[Any, str | None]:
    name = None
    for _ in range(16):
        if not (isinstance(node, dict) and isinstance(node.get("$ref"), str)):
            break
        ref: str = node["$ref"]
        if ref.startswith("#/components/schemas/"):
            name = ref.rsplit("/", 1)[1]
        current: Any = document
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            current = current.get(part) if isinstance(current, dict) else None
        node = current
    return node, name


def describe(document: dict[str, Any], schema: Any) -> str:
    """What a (sub)schema accepts: `date-time string`, `null`, `"manual"`, `Workflow object`."""
    node, name = _deref(document, schema)
    if not isinstance(node, dict):
        return "anything" if node is True else "nothing"
    if "const" in node:
        return short_json(node["const"], 60)
    if "enum" in node:
        return "one of " + short_json(node["enum"], 80)
    kinds = node.get("type")
    kinds = kinds if isinstance(kinds, list) else [kinds] if isinstance(kinds, str) else []
    words = []
    for kind in kinds:
        if kind == "string" and "format" in node:
            words.append(f"{node['format']} string")
        elif kind == "object" and name:
            words.append(f"{name} object")
        else:
            words.append(kind)
    if words:
        return " or ".join(words)
    for key in ("oneOf", "anyOf"):
        if isinstance(node.get(key), list):
            return " or ".join(dict.fromkeys(describe(document, s) for s in node[key]))
    return f"a {name}" if name else "a value matching the schema"


def expectation(
    document: dict[str, Any],
    keyword: str,
    value: Any,
    schema_name: str | None = None,
) -> str:
    """The `expected` of a schema error, from the keyword and its value in the spec."""
    if keyword == "type":
        return value if isinstance(value, str) else " or ".join(str(v) for v in value)
    if keyword == "const":
        return short_json(value, 60)
    if keyword == "enum":
        return "one of " + short_json(value, 100)
    if keyword == "format":
        return f"{value} string"
    if keyword == "pattern":
        if schema_name:
            schema = document.get("components", {}).get("schemas", {}).get(schema_name, {})
            examples = schema.get("examples") or []
            hint = f" (for example {short_json(examples[0], 40)})" if examples else ""
            return f"the {schema_name} format{hint}"
        return "a string matching the required pattern"
    bounds = {
        "minimum": ">= {}",
        "maximum": "<= {}",
        "exclusiveMinimum": "> {}",
        "exclusiveMaximum": "< {}",
        "minLength": "at least {} character(s)",
        "maxLength": "at most {} character(s)",
        "minItems": "at least {} item(s)",
        "maxItems": "at most {} item(s)",
        "minProperties": "at least {} propert(ies)",
        "maxProperties": "at most {} propert(ies)",
        "multipleOf": "a multiple of {}",
    }
    if keyword in bounds:
        return bounds[keyword].format(value)
    if keyword in ("oneOf", "anyOf") and isinstance(value, list):
        joined = " or ".join(dict.fromkeys(describe(document, s) for s in value))
        return f"exactly one of: {joined}" if keyword == "oneOf" and " or " in joined else joined
    if keyword == "uniqueItems":
        return "unique items"
    if keyword == "not":
        return "not " + describe(document, value)
    return f"to satisfy {keyword}"


def schema_findings(
    document: dict[str, Any],
    *,
    direction: Direction,
    prefix: str,
    instance_path: Sequence[str | int],
    keyword: str,
    value: Any,
    instance: Any,
    source: str | None,
    spec_pointer: str | None,
    schema_name: str | None = None,
    missing: Sequence[str] = (),
    unexpected: Sequence[str] = (),
) -> list[Finding]:
    """One schema error → findings; `required` / `additionalProperties` point at each key."""
    base = list(instance_path)
    if keyword == "required":
        return [
            Finding(
                direction,
                join_path(prefix, [*base, key]),
                "required",
                f"required property {json.dumps(key)}",
                "missing",
                source,
                spec_pointer,
            )
            for key in missing
        ]
    if keyword == "additionalProperties" and unexpected:
        container = instance if isinstance(instance, dict) else {}
        return [
            Finding(
                direction,
                join_path(prefix, [*base, key]),
                "additionalProperties",
                "no such property (additional properties are not allowed)",
                short_json(container.get(key)),
                source,
                spec_pointer,
            )
            for key in unexpected
        ]
    return [
        Finding(
            direction,
            join_path(prefix, base),
            keyword,
            expectation(document, keyword, value, schema_name),
            short_json(instance),
            source,
            spec_pointer,
        )
    ]


def source_along(
    document: dict[str, Any], schema_path: Sequence[str | int]
) -> tuple[str | None, str | None]:
    """`(source, schema name)` of the keyword at `schema_path`, as the spec's provenance says.

    `schema_path` is absolute in the document (jsonschema-rs reports it so, through `$ref`s),
    ending with the keyword: `components/schemas/Workflow/required`.
    """
    name: str | None = None
    for index in range(2, len(schema_path)):
        if list(schema_path[index - 2 : index]) == ["components", "schemas"]:
            name = str(schema_path[index])
    try:
        found = provenance_at(document, pointer_of(schema_path))
    except SpecError:
        return None, name
    return (None if found.source is Source.UNIVERSAL else found.source.value), name


def pointer_of(schema_path: Sequence[str | int]) -> str:
    return "#/" + "/".join(escape_pointer(p) for p in schema_path)
