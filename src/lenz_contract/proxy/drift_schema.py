"""What a contract says about one place of an answer, as `drift` needs it.

`Facets.of(spec, pointer, value)` follows `$ref`, `allOf` and the `oneOf`/`anyOf` branches that
fit `value`, and gathers what they say together: the properties an object may have (and which
schema to add a new one to), which are required and where, whether the object is free-form,
the item schema of an array, whether a string is a timestamp, and the values an enumeration
admits. A schema with no `properties` (a node's `config`, an execution's `error`), or one that
says `additionalProperties`, describes a free-form object: drift reports nothing under it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..spec.document import resolve_pointer

STRICT = "x-lenz-strict"
COMPONENT = re.compile(r"^#/components/schemas/[^/]+$")
MAX_DEPTH = 48


@dataclass
class Facets:
    """Everything the schemas at one place say, merged."""

    properties: dict[str, str] = field(default_factory=dict)
    required: dict[str, list[str]] = field(default_factory=dict)
    """Required names, and the schemas whose `required` names them."""
    owners: list[str] = field(default_factory=list)
    """Schemas with `properties`, in the order met: a new property goes to the last one."""
    free: bool = False
    items: str | None = None
    timestamp: bool = False
    strict_pattern_at: str | None = None
    """The schema whose `x-lenz-strict` holds a `pattern` (the strict profile's `Z$`)."""
    enum_at: str | None = None
    strict_enum_at: str | None = None
    enum: list[Any] = field(default_factory=list)
    strict_enum: list[Any] = field(default_factory=list)
    examples: list[Any] = field(default_factory=list)
    types: set[str] = field(default_factory=set)
    typed: bool = False
    """False when no schema met states a `type` (anything goes)."""

    @property
    def owner(self) -> str | None:
        """Where a new property goes: the first whole component met (`SuccessEnvelope` for a
        key every success answer carries, not each answer's own `allOf` branch), else the
        last schema with `properties`."""
        for pointer in self.owners:
            if COMPONENT.match(pointer):
                return pointer
        return self.owners[-1] if self.owners else None

    @property
    def described(self) -> bool:
        """Does the place state an object's properties (so an unknown key is news)?"""
        return bool(self.owners) and not self.free


class SchemaReader:
    """Reads facets from one document; `fits(pointer, value)` picks union branches."""

    def __init__(self, document: dict[str, Any], fits: Callable[[str, Any], bool]) -> None:
        self.document = document
        self.fits = fits

    def facets(self, pointer: str, value: Any) -> Facets:
        out = Facets()
        self._visit(pointer, value, out, 0, set())
        if not out.owners:
            out.free = True
        return out

    def _visit(self, pointer: str, value: Any, out: Facets, depth: int, seen: set[str]) -> None:
        if depth > MAX_DEPTH or pointer in seen:
            return
        seen.add(pointer)
        try:
            node = resolve_pointer(self.document, pointer)
        except (KeyError, ValueError):
            return
        if not isinstance(node, dict):
            if node is True:
                out.free = True
            return
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/"):
            self._visit(ref, value, out, depth + 1, seen)
        for index, _ in enumerate(node.get("allOf") or []):
            self._visit(f"{pointer}/allOf/{index}", value, out, depth + 1, seen)
        for keyword in ("oneOf", "anyOf"):
            branches = node.get(keyword)
            if not isinstance(branches, list) or not branches:
                continue
            where = [f"{pointer}/{keyword}/{i}" for i in range(len(branches))]
            fitting = [b for b in where if self.fits(b, value)]
            for branch in fitting or where:
                self._visit(branch, value, out, depth + 1, seen)
        self._own(pointer, node, out)

    def _own(self, pointer: str, node: dict[str, Any], out: Facets) -> None:
        properties = node.get("properties")
        if isinstance(properties, dict):
            out.owners.append(pointer)
            for name in properties:
                out.properties.setdefault(str(name), f"{pointer}/properties/{_escape(name)}")
        additional = node.get("additionalProperties")
        if additional is True or isinstance(additional, dict):
            out.free = True
        for name in node.get("required") or []:
            out.required.setdefault(str(name), []).append(pointer)
        if isinstance(node.get("items"), dict) and out.items is None:
            out.items = f"{pointer}/items"
        kind = node.get("type")
        if isinstance(kind, str | list):
            out.typed = True
            out.types.update([kind] if isinstance(kind, str) else [str(k) for k in kind])
        if node.get("format") == "date-time":
            out.timestamp = True
        strict = node.get(STRICT)
        if isinstance(strict, dict):
            if "pattern" in strict and out.strict_pattern_at is None:
                out.strict_pattern_at = pointer
            if isinstance(strict.get("enum"), list) and out.strict_enum_at is None:
                out.strict_enum_at = pointer
                out.strict_enum = list(strict["enum"])
        if isinstance(node.get("enum"), list) and out.enum_at is None:
            out.enum_at = pointer
            out.enum = list(node["enum"])
        if "const" in node and not out.enum:
            out.enum = [node["const"]]
        for example in node.get("examples") or []:
            if example not in out.examples:
                out.examples.append(example)


def _escape(name: Any) -> str:
    return str(name).replace("~", "~0").replace("/", "~1")


JSON_TYPES = (
    (bool, "boolean"),
    (int, "integer"),
    (float, "number"),
    (str, "string"),
    (list, "array"),
    (dict, "object"),
)


def json_type(value: Any) -> str:
    """The JSON type of a value (`null`, `boolean`, `integer`, `number`, ...)."""
    if value is None:
        return "null"
    if isinstance(value, float):
        return "integer" if value.is_integer() else "number"
    for python, name in JSON_TYPES:
        if isinstance(value, python):
            return name
    return "unknown"
