"""Provenance: which statements of the contract the docs make, in whose words, and which we inferred.

The spec says it with four extensions (docs/contract-decisions.md, "How the profiles use this"):

- `x-lenz-source: documented | inferred` on an object: what the object states (that it exists,
  its type, its keywords) rests on the docs or on our inference. An object without one states
  what its nearest ancestor with one states.
- `x-lenz-quote` on a documented object: the docs' words it rests on, a phrase of the reference
  as written (Indonesian), or `example: <Name>`, the documented example that shows it. A string
  or a list of them.
- `x-lenz-reason` on an inferred object: why we took it.
- `x-lenz-inferred: {key: reason}` on a documented object: the keys of that object (schema
  keywords such as `minLength`, or statements such as `x-lenz-limit-cap`) that are inferred.
- `x-lenz-admits: {key: reason}`: keys that admit more than the docs show (`null` for a
  timestamp of a run still going); inferred too, but a loosening, so every profile keeps them.

A pointer that no longer resolves is an error, never silently "universal": a check that cites a
stale place of the spec would otherwise report a provenance nobody wrote.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from .document import pointer_parts, resolve_pointer
from .errors import SpecError, SpecProblem

SOURCE = "x-lenz-source"
QUOTE = "x-lenz-quote"
REASON = "x-lenz-reason"
INFERRED_KEYS = "x-lenz-inferred"
ADMITS = "x-lenz-admits"
KEYED = (INFERRED_KEYS, ADMITS)  # maps of keys whose statements are inferred
EXAMPLE_QUOTE = re.compile(r"^example: (?P<name>[A-Za-z0-9_.-]+)$")


class Source(StrEnum):
    """What a statement rests on: the docs' words, our inference, or HTTP itself."""

    DOCUMENTED = "documented"
    INFERRED = "inferred"
    UNIVERSAL = "universal"


@dataclass(frozen=True)
class Provenance:
    """What one statement rests on, and where in the spec that is written."""

    source: Source
    pointer: str  # the statement's place
    quote: tuple[str, ...] = ()
    reason: str | None = None

    @property
    def examples(self) -> tuple[str, ...]:
        """The documented examples the quote names (`example: <Name>`)."""
        return tuple(m["name"] for q in self.quote if (m := EXAMPLE_QUOTE.match(q)))

    @property
    def phrases(self) -> tuple[str, ...]:
        """The quoted phrases of the docs (everything that is not an example name)."""
        return tuple(q for q in self.quote if not EXAMPLE_QUOTE.match(q))

    def describe(self) -> str:
        if self.source is Source.DOCUMENTED and self.quote:
            return "documented: " + "; ".join(f"«{q}»" for q in self.quote)
        if self.reason:
            return f"{self.source.value}: {self.reason}"
        return self.source.value


@dataclass(frozen=True)
class Statement:
    """One place of the spec that makes a statement: an object with `x-lenz-source`, or one key
    named in an object's `x-lenz-inferred`."""

    pointer: str
    provenance: Provenance
    key: str | None = None  # the key named in `x-lenz-inferred`, for keyword statements


def escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


def quotes_of(node: dict[str, Any]) -> tuple[str, ...]:
    raw = node.get(QUOTE)
    if isinstance(raw, str):
        return (raw,)
    if isinstance(raw, list):
        return tuple(q for q in raw if isinstance(q, str))
    return ()


def own_provenance(node: Any, pointer: str) -> Provenance | None:
    """The provenance an object states itself (`x-lenz-source`), or None."""
    if not isinstance(node, dict) or node.get(SOURCE) not in (
        Source.DOCUMENTED.value,
        Source.INFERRED.value,
    ):
        return None
    reason = node.get(REASON)
    return Provenance(
        Source(node[SOURCE]),
        pointer,
        quotes_of(node),
        reason if isinstance(reason, str) else None,
    )


def provenance_at(document: dict[str, Any], pointer: str) -> Provenance:
    """What the statement at `pointer` rests on; raises `SpecError` if `pointer` is stale.

    A key named in its object's `x-lenz-inferred` is inferred with that reason; otherwise the
    object's own `x-lenz-source` (after its `$ref`, for a reference with none of its own) or
    the nearest ancestor's. Nothing found at all: universal (it restates HTTP, not the docs).
    """
    try:
        node = resolve_pointer(document, pointer)
    except (KeyError, ValueError) as exc:
        raise SpecError(
            [SpecProblem(pointer, f"does not resolve in the spec (no {exc.args[0]!r})")]
        ) from None
    parts = pointer_parts(pointer)
    parent_pointer = "#/" + "/".join(escape(p) for p in parts[:-1]) if parts else "#"
    if parts:
        parent = resolve_pointer(document, parent_pointer) if parts[:-1] else document
        for extension in KEYED:
            keyed = parent.get(extension) if isinstance(parent, dict) else None
            if isinstance(keyed, dict) and parts[-1] in keyed:
                return Provenance(Source.INFERRED, pointer, (), str(keyed[parts[-1]]))
    found = own_provenance(node, pointer)
    if found is None and isinstance(node, dict) and isinstance(node.get("$ref"), str):
        target = node["$ref"]
        found = own_provenance(resolve_pointer(document, target), target)
    for depth in range(len(parts) - 1, 0, -1):
        if found is not None:
            break
        ancestor = "#/" + "/".join(escape(p) for p in parts[:depth])
        found = own_provenance(resolve_pointer(document, ancestor), ancestor)
    return found or Provenance(Source.UNIVERSAL, pointer)


def keyword_source(schema: Any, keyword: str, fallback: str | None) -> str | None:
    """The source of one keyword of a schema object, read from that object alone: inferred if
    its `x-lenz-inferred`/`x-lenz-admits` names the keyword, else its own `x-lenz-source`, else
    `fallback` (for engines that hand over the schema object, not its place)."""
    if not isinstance(schema, dict):
        return fallback
    for extension in KEYED:
        keyed = schema.get(extension)
        if isinstance(keyed, dict) and keyword in keyed:
            return Source.INFERRED.value
    own = schema.get(SOURCE)
    return own if isinstance(own, str) else fallback


def statements(document: dict[str, Any]) -> Iterator[Statement]:
    """Every statement the spec marks: objects with `x-lenz-source`, keys in `x-lenz-inferred`."""

    def walk(node: Any, pointer: str) -> Iterator[Statement]:
        if isinstance(node, dict):
            own = own_provenance(node, pointer)
            if own is not None:
                yield Statement(pointer, own)
            for extension in KEYED:
                keyed = node.get(extension)
                if not isinstance(keyed, dict):
                    continue
                for key, reason in keyed.items():
                    where = f"{pointer}/{escape(str(key))}"
                    yield Statement(where, Provenance(Source.INFERRED, where, (), reason), str(key))
            for key, value in node.items():
                if key.startswith("x-lenz-"):
                    continue
                yield from walk(value, f"{pointer}/{escape(str(key))}")
        elif isinstance(node, list):
            for index, value in enumerate(node):
                yield from walk(value, f"{pointer}/{index}")

    yield from walk(document, "#")


def normalized(text: str) -> str:
    """Whitespace-insensitive form of a quote or of the reference (line breaks differ)."""
    return " ".join(text.split())


def provenance_problems(
    document: dict[str, Any], reference_text: str | None = None
) -> list[SpecProblem]:
    """Statements that do not tell the truth about themselves.

    Documented ones need a quote; inferred ones a reason; a key named in `x-lenz-inferred` must
    be a key of its object; an `example:` quote must name an example of the spec; with the
    reference's text, every quoted phrase must be in it, as written.
    """
    problems: list[SpecProblem] = []
    examples = (document.get("components") or {}).get("examples") or {}
    reference = normalized(reference_text) if reference_text is not None else None
    for statement in statements(document):
        prov = statement.provenance
        where = statement.pointer
        if statement.key is not None:
            parent = resolve_pointer(document, where.rsplit("/", 1)[0])
            if statement.key not in parent:
                problems.append(SpecProblem(where, f"names {statement.key!r}, not a key here"))
            if not isinstance(prov.reason, str) or not prov.reason.strip():
                problems.append(SpecProblem(where, "an inferred key without a reason"))
            continue
        if prov.source is Source.INFERRED and not prov.reason:
            problems.append(SpecProblem(where, "inferred statement without an x-lenz-reason"))
        if prov.source is Source.DOCUMENTED:
            if not prov.quote:
                problems.append(SpecProblem(where, "documented statement without an x-lenz-quote"))
            for name in prov.examples:
                if name not in examples:
                    problems.append(
                        SpecProblem(where, f"x-lenz-quote names example {name!r}, not in the spec")
                    )
            if reference is not None:
                for phrase in prov.phrases:
                    if normalized(phrase) not in reference:
                        problems.append(
                            SpecProblem(where, f"x-lenz-quote {phrase!r} is not in the docs")
                        )
    return problems


# -- which places of the spec a documented example shows ---------------------------------------

SCHEMA_BRANCHES = ("allOf", "anyOf", "oneOf")


def shown_by(document: dict[str, Any], example: str) -> set[str]:
    """The places of the spec the documented example `example` shows.

    The example itself, every object on the way to where it is attached (its media type, the
    response or request body, the operation), and every schema object its value passes
    through (following `$ref`, `allOf`, the `oneOf`/`anyOf` branches and `then`s that hold for
    it, `properties` it has and `items`). A statement quoting `example: X` must be in this set.
    """
    from .schemas import compile_validator

    target = f"#/components/examples/{escape(example)}"
    value = (resolve_pointer(document, target) or {}).get("value")
    places = {target}

    def holds(pointer: str, instance: Any) -> bool:
        return compile_validator(document, pointer).is_valid(instance)

    def visit(instance: Any, pointer: str) -> None:
        if (pointer, id(instance)) in seen:
            return
        seen.add((pointer, id(instance)))
        places.add(pointer)
        node = resolve_pointer(document, pointer)
        if not isinstance(node, dict):
            return
        if isinstance(node.get("$ref"), str):
            visit(instance, node["$ref"])
        for keyword in SCHEMA_BRANCHES:
            for index, _ in enumerate(node.get(keyword) or []):
                branch = f"{pointer}/{keyword}/{index}"
                if keyword == "allOf" or holds(branch, instance):
                    visit(instance, branch)
        if "if" in node and "then" in node and holds(f"{pointer}/if", instance):
            visit(instance, f"{pointer}/then")
        properties = node.get("properties")
        if isinstance(instance, dict) and isinstance(properties, dict):
            for key, item in instance.items():
                if key in properties:
                    visit(item, f"{pointer}/properties/{escape(key)}")
        if isinstance(instance, list) and isinstance(node.get("items"), dict):
            for item in instance:
                visit(item, f"{pointer}/items")

    seen: set[tuple[str, int]] = set()
    for media_pointer in _attachments(document, target):
        parts = media_pointer[2:].split("/")
        places.update("#/" + "/".join(parts[:depth]) for depth in range(2, len(parts) + 1))
        if isinstance(resolve_pointer(document, media_pointer).get("schema"), dict):
            visit(value, f"{media_pointer}/schema")
    return places


def _attachments(document: dict[str, Any], target: str) -> list[str]:
    """The media type objects whose `examples` refer to `target`."""
    found: list[str] = []

    def walk(node: Any, pointer: str) -> None:
        if isinstance(node, dict):
            examples = node.get("examples")
            if isinstance(examples, dict) and "schema" in node:
                for item in examples.values():
                    if isinstance(item, dict) and item.get("$ref") == target:
                        found.append(pointer)
            for key, value in node.items():
                if not key.startswith("x-"):
                    walk(value, f"{pointer}/{escape(str(key))}")
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, f"{pointer}/{index}")

    walk(document, "#")
    return found


def unshown_examples(document: dict[str, Any]) -> list[SpecProblem]:
    """Documented statements whose `example:` quote names an example that does not show them."""
    cache: dict[str, set[str]] = {}
    problems = []
    for statement in statements(document):
        for name in statement.provenance.examples:
            if name not in ((document.get("components") or {}).get("examples") or {}):
                continue  # `provenance_problems` reports it
            if name not in cache:
                cache[name] = shown_by(document, name)
            if statement.pointer not in cache[name]:
                problems.append(
                    SpecProblem(statement.pointer, f"example {name!r} does not show this")
                )
    return problems
