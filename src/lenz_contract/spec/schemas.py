"""Validators compiled once from the spec's own schemas (jsonschema-rs), with readable errors.

openapi-core is the reference validator (see `reference.py`), but it costs milliseconds per
call; these compiled validators answer in microseconds and a differential test keeps the two in
agreement.

A union told apart by one property (a `oneOf`/`anyOf` with a `discriminator`, or whose branches
all fix one property with `const`) is reported by the branch the instance names: jsonschema-rs
says only that the instance "is not valid under any of the schemas listed in the 'oneOf'
keyword"; here an export node without `date_range` is `body.nodes[0].config: "date_range" is a
required property`, and an unknown node type is `body.nodes[0].type: "x" is not one of ...`.
Any other union with one branch of the instance's JSON type (`Timestamp or null`) is reported by
that branch.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import jsonschema_rs

from .document import resolve_pointer
from .errors import FieldError

DIALECT = "https://json-schema.org/draft/2020-12/schema"
MAX_ERRORS = 20
UNIONS = ("oneOf", "anyOf")


def compile_validator(document: dict[str, Any], pointer: str) -> SchemaValidator:
    """Compile the schema at `pointer`; the whole document is the root so `$ref`s resolve."""
    root = {key: value for key, value in document.items() if key not in ("$ref", "$schema", "$id")}
    root["$schema"] = DIALECT
    root["$ref"] = quote(pointer, safe="#/~")  # a URI fragment: `{id}` must be %-encoded
    return SchemaValidator(
        jsonschema_rs.validator_for(root, validate_formats=True), document, pointer
    )


def format_path(prefix: str, parts: Iterable[str | int]) -> str:
    """`("body", ["nodes", 0, "id"])` → `body.nodes[0].id`."""
    out = prefix
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


# -- discriminated unions ----------------------------------------------------------------------


@dataclass(frozen=True)
class Discriminated:
    """How a union's branches are told apart: the property, and which value names which branch."""

    property: str
    branches: Mapping[str, int]  # value → index of the branch in the union's list

    def expected(self, value: Any) -> str:
        """Why `value` names no branch, as jsonschema-rs words an `enum` miss."""
        validator = jsonschema_rs.validator_for({"enum": sorted(self.branches)})
        return next(iter(validator.iter_errors(value))).message


def discriminated_union(
    document: Mapping[str, Any], schema: Any, keyword: str
) -> Discriminated | None:
    """How the `keyword` union (`oneOf`/`anyOf`) of `schema` tells its branches apart, or None.

    The property is the `discriminator`'s `propertyName`, or else one that every branch fixes
    with `const` (or a one-value `enum`). A value names a branch by the discriminator's
    `mapping` (a `$ref` or a schema name), by the branch's `const` for the property, and, for a
    branch named by neither, by its schema's name (OpenAPI's implicit mapping).
    """
    branches = schema.get(keyword) if isinstance(schema, Mapping) else None
    if not isinstance(branches, list) or not branches:
        return None
    resolved = [_deref(document, branch) for branch in branches]
    discriminator = schema.get("discriminator")
    name = discriminator.get("propertyName") if isinstance(discriminator, Mapping) else None
    if not isinstance(name, str):
        name = _property_every_branch_fixes(document, resolved)
        if name is None:
            return None
    values: dict[str, int] = {}
    mapping = discriminator.get("mapping") if isinstance(discriminator, Mapping) else None
    for value, target in (mapping or {}).items():
        for index, branch in enumerate(branches):
            ref = branch.get("$ref") if isinstance(branch, Mapping) else None
            if isinstance(ref, str) and target in (ref, ref.rsplit("/", 1)[-1]):
                values.setdefault(str(value), index)
    for index, branch in enumerate(resolved):
        fixed = _fixed_values(document, branch, name)
        for value in fixed:
            values.setdefault(value, index)
        ref = branches[index].get("$ref") if isinstance(branches[index], Mapping) else None
        named = index in values.values()
        if not fixed and not named and discriminator is not None and isinstance(ref, str):
            values.setdefault(ref.rsplit("/", 1)[-1], index)
    return Discriminated(name, values) if values else None


def _deref(document: Mapping[str, Any], node: Any) -> Any:
    for _ in range(32):
        if not (isinstance(node, Mapping) and isinstance(node.get("$ref"), str)):
            return node
        try:
            node = resolve_pointer(document, node["$ref"])
        except (KeyError, ValueError):
            return None
    return node


def _fixed_values(document: Mapping[str, Any], branch: Any, name: str) -> list[str]:
    """The string values a branch fixes its `name` property to (`const`, one-value `enum`)."""
    properties = branch.get("properties") if isinstance(branch, Mapping) else None
    prop = _deref(document, (properties or {}).get(name))
    if not isinstance(prop, Mapping):
        return []
    if isinstance(prop.get("const"), str):
        return [prop["const"]]
    enum = prop.get("enum")
    return (
        [enum[0]] if isinstance(enum, list) and len(enum) == 1 and isinstance(enum[0], str) else []
    )


def _property_every_branch_fixes(document: Mapping[str, Any], branches: list[Any]) -> str | None:
    names: set[str] | None = None
    for branch in branches:
        properties = branch.get("properties") if isinstance(branch, Mapping) else None
        fixed = {n for n in (properties or {}) if _fixed_values(document, branch, n)}
        names = fixed if names is None else names & fixed
    return min(names) if names else None


# -- errors ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Located:
    """One jsonschema-rs error as reported: its place, and a reason that replaces its message."""

    error: Any
    reason: str | None = None

    @property
    def instance_path(self) -> list[str | int]:
        return list(self.error.instance_path)


class SchemaValidator:
    """One compiled schema; `errors()` returns located, readable reasons."""

    def __init__(self, compiled: Any, document: dict[str, Any], pointer: str) -> None:
        self._compiled = compiled
        self._document = document
        self.pointer = pointer
        self._unions: dict[tuple[str | int, ...], Discriminated | None] = {}

    @property
    def compiled(self) -> Any:
        """The compiled validator for callers that read jsonschema-rs's errors themselves (their
        schema paths, kinds): `is_valid` and `iter_errors` as jsonschema-rs has them, except that
        a discriminated union's error is replaced by the errors of the branch it names."""
        return PreciseErrors(self)

    def is_valid(self, instance: Any) -> bool:
        return bool(self._compiled.is_valid(instance))

    def errors(self, instance: Any, prefix: str = "body") -> list[FieldError]:
        if self._compiled.is_valid(instance):
            return []
        seen: set[tuple[str, str]] = set()
        out: list[FieldError] = []
        for found in self.located(instance):
            reason = found.reason if found.reason is not None else self._reason(found.error)
            error = FieldError(format_path(prefix, found.instance_path), reason)
            key = (error.path, error.reason)
            if key not in seen:
                seen.add(key)
                out.append(error)
            if len(out) >= MAX_ERRORS:
                break
        return out

    def located(self, instance: Any) -> Iterator[Located]:
        """Every error of `instance`, discriminated unions reported by their branch."""
        for error in self._compiled.iter_errors(instance):
            yield from self._expand(error)

    def _expand(self, error: Any) -> Iterator[Located]:
        schema_path = list(error.schema_path)
        keyword = schema_path[-1] if schema_path else None
        context = getattr(error.kind, "context", None)
        if keyword not in UNIONS or not context:
            yield Located(error)
            return
        instance, here = error.instance, list(error.instance_path)
        union = self._union(tuple(schema_path[:-1]), keyword)
        if union is None:  # one branch of the instance's JSON type (`T or null`): its errors
            typed = self._branches_of_type(tuple(schema_path[:-1]), keyword, instance)
            if len(typed) == 1 and typed[0] < len(context):
                for sub in context[typed[0]]:
                    yield from self._expand(sub)
            else:
                yield Located(error)
            return
        if not isinstance(instance, dict):  # what every branch says: not of type "object"
            yield from _first_of_each(context, here, "type") or [Located(error)]
            return
        if union.property not in instance:
            missing = _first_of_each(context, here, "required", union.property)
            yield from missing or [Located(error, f'"{union.property}" is a required property')]
            return
        value = instance[union.property]
        index = union.branches.get(value) if isinstance(value, str) else None
        if index is None or index >= len(context):
            reason = union.expected(value)
            named = [
                Located(e, reason)
                for branch in context
                for e in branch
                if list(e.instance_path) == [*here, union.property]
            ]
            yield from named or [Located(error, f"{union.property}: {reason}")]
            return
        for sub in context[index]:
            yield from self._expand(sub)

    def _union(self, where: tuple[str | int, ...], keyword: Any) -> Discriminated | None:
        key = (*where, str(keyword))
        if key not in self._unions:
            self._unions[key] = discriminated_union(
                self._document, self._schema_at(where), str(keyword)
            )
        return self._unions[key]

    def _branches_of_type(
        self, where: tuple[str | int, ...], keyword: str, instance: Any
    ) -> list[int]:
        """The union's branches that admit `instance`'s JSON type (or say no type)."""
        schema = self._schema_at(where)
        branches = schema.get(keyword) if isinstance(schema, Mapping) else None
        kinds = _json_types_of(instance)
        found = []
        for index, branch in enumerate(branches or []):
            declared = _deref(self._document, branch)
            kind = declared.get("type") if isinstance(declared, Mapping) else None
            allowed = {kind} if isinstance(kind, str) else set(kind or [])
            if not allowed or allowed & kinds:
                found.append(index)
        return found

    def _schema_at(self, parts: Iterable[str | int]) -> Any:
        """The schema object at a jsonschema-rs schema path (following `$ref`s on the way)."""
        node: Any = self._document
        for part in parts:
            if part == "$ref" and isinstance(node, Mapping) and isinstance(node.get("$ref"), str):
                node = _deref(self._document, node)
            elif isinstance(node, Mapping) and str(part) in node:
                node = node[str(part)]
            elif isinstance(node, list) and isinstance(part, int) and part < len(node):
                node = node[part]
            else:
                return None
        return node

    def _reason(self, error: Any) -> str:
        schema_path = list(error.schema_path)
        keyword = schema_path[-1] if schema_path else ""
        if keyword == "pattern":
            name = _named_schema(schema_path)
            schema = self._document.get("components", {}).get("schemas", {}).get(name or "", {})
            example = (schema.get("examples") or [None])[0]
            what = f"the {name} format" if name else "the required pattern"
            hint = f" (for example {example!r})" if example is not None else ""
            return f"{_short(error.instance)} does not match {what}{hint}"
        message: str = error.message
        return message if len(message) <= 300 else message[:297] + "..."


class PreciseErrors:
    """A compiled validator as jsonschema-rs's (`is_valid`, `iter_errors`), with a
    discriminated union's error replaced by its branch's errors (see `SchemaValidator`)."""

    def __init__(self, validator: SchemaValidator) -> None:
        self._validator = validator

    def is_valid(self, instance: Any) -> bool:
        return self._validator.is_valid(instance)

    def iter_errors(self, instance: Any) -> Iterator[Any]:
        return (found.error for found in self._validator.located(instance))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._validator._compiled, name)


def _json_types_of(value: Any) -> set[str]:
    """The JSON Schema types `value` has (an integral number is an "integer" and a "number")."""
    if value is None:
        return {"null"}
    if isinstance(value, bool):
        return {"boolean"}
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        return {"integer", "number"}
    if isinstance(value, float):
        return {"number"}
    if isinstance(value, str):
        return {"string"}
    return {"array"} if isinstance(value, list) else {"object"}


def _first_of_each(
    context: list[list[Any]], here: list[Any], keyword: str, missing: str | None = None
) -> list[Located]:
    """The branches' errors of `keyword` at the union's own place, one per message."""
    found: dict[str, Located] = {}
    for branch in context:
        for error in branch:
            path = list(error.schema_path)
            if list(error.instance_path) != here or not path or path[-1] != keyword:
                continue
            if missing is not None and getattr(error.kind, "property", None) != missing:
                continue
            found.setdefault(error.message, Located(error))
    return list(found.values())


def _named_schema(schema_path: list[Any]) -> str | None:
    for index in range(len(schema_path) - 2, -1, -1):
        if schema_path[index] == "schemas":
            return str(schema_path[index + 1])
    return None


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
