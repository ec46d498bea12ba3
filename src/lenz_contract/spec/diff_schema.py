"""The schemas `diff` compares, read the same way on both sides.

`Flattener.flat(pointer)` gives what a schema admits with `$ref`s followed, `allOf` merged and a
union with `null` read as a nullable schema, and where each keyword was written (`origin`), so
a change is placed where it was made. `place()` names a place of the document independently of
the view it is read in (`Workflow.nodes[].config`, `createWorkflow.request.name`): the docs
view wraps some schemas in `X or null`, and the same place must get the same name in both.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .diff_rules import BOUNDS, UPPER_BOUNDS
from .document import resolve_pointer
from .errors import SpecError, SpecProblem

MAX_DEPTH = 64


class DiffError(SpecError):
    """A document the diff cannot read as a contract."""


# -- a schema, flattened -----------------------------------------------------------------------


@dataclass
class Flat:
    """What a schema admits, with `$ref`s followed, `allOf` merged and `X or null` unwrapped.

    `origin` says where each keyword was written (for the change's place and pointer).
    """

    pointer: str
    types: frozenset[str] | None = None  # None: any type
    enum: list[Any] | None = None
    format: str | None = None
    pattern: str | None = None
    bounds: dict[str, float] = field(default_factory=dict)
    multiple_of: float | None = None
    properties: dict[str, str] = field(default_factory=dict)
    required: set[str] = field(default_factory=set)
    closed: bool = False  # additionalProperties: false
    additional: str | None = None  # pointer of an additionalProperties schema
    items: str | None = None
    branches: list[str] = field(default_factory=list)
    origin: dict[str, str] = field(default_factory=dict)

    def where(self, keyword: str) -> str:
        return self.origin.get(keyword, self.pointer)


def _is_null(node: Any) -> bool:
    return isinstance(node, dict) and (
        node.get("type") == "null" or ("const" in node and node["const"] is None)
    )


def _types(node: dict[str, Any]) -> frozenset[str] | None:
    kind = node.get("type")
    if isinstance(kind, str):
        return frozenset({kind})
    if isinstance(kind, list):
        return frozenset(str(k) for k in kind)
    return None


def _intersect(a: frozenset[str] | None, b: frozenset[str] | None) -> frozenset[str] | None:
    if a is None:
        return b
    if b is None:
        return a
    out = set(a & b)
    if ("integer" in a and "number" in b) or ("integer" in b and "number" in a):
        out.add("integer")
    return frozenset(out)


class Flattener:
    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document

    def flat(self, pointer: str) -> Flat:
        out = Flat(pointer)
        self._collect(pointer, out, frozenset())
        return out

    def node(self, pointer: str) -> Any:
        try:
            return resolve_pointer(self.document, pointer)
        except (KeyError, ValueError) as exc:
            raise DiffError([SpecProblem(pointer, f"does not resolve (no {exc})")]) from None

    def _collect(self, pointer: str, out: Flat, seen: frozenset[str]) -> None:
        if pointer in seen or len(seen) > MAX_DEPTH:
            return
        seen = seen | {pointer}
        node = self.node(pointer)
        if node is False:
            out.types = frozenset()
        if not isinstance(node, dict):
            return
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/"):
            self._collect(ref, out, seen)
        for index, _ in enumerate(node.get("allOf") or []):
            self._collect(f"{pointer}/allOf/{index}", out, seen)
        for keyword in ("oneOf", "anyOf"):
            if isinstance(node.get(keyword), list):
                self._union(pointer, keyword, node[keyword], out, seen)
        self._own(pointer, node, out)

    def _union(
        self, pointer: str, keyword: str, branches: list[Any], out: Flat, seen: frozenset[str]
    ) -> None:
        where = [f"{pointer}/{keyword}/{i}" for i in range(len(branches))]
        real = [w for w, b in zip(where, branches, strict=True) if not _is_null(self._deref(b))]
        nullable = len(real) < len(where)
        if len(real) == 1 and nullable:  # `X or null`: X, nullable (a union of one stays one)
            sub = Flat(real[0])
            self._collect(real[0], sub, seen)
            if nullable and sub.types is not None:
                sub.types = sub.types | {"null"}
                sub.origin["type"] = pointer
            elif nullable:
                sub.origin.setdefault("type", pointer)
            self._merge(out, sub)
            return
        kinds: set[str] = {"null"} if nullable else set()
        for branch in real:
            sub = self.flat(branch)
            if sub.types is None:
                kinds = set()
                break
            kinds |= sub.types
        if kinds:
            out.types = _intersect(out.types, frozenset(kinds))
            out.origin.setdefault("type", pointer)
        out.branches += real
        out.origin.setdefault("branches", pointer)

    def _deref(self, node: Any) -> Any:
        for _ in range(MAX_DEPTH):
            if not (isinstance(node, dict) and isinstance(node.get("$ref"), str)):
                return node
            node = self.node(node["$ref"])
        return node

    def _merge(self, out: Flat, sub: Flat) -> None:
        out.types = _intersect(out.types, sub.types)
        if sub.enum is not None:
            out.enum = sub.enum if out.enum is None else [v for v in out.enum if v in sub.enum]
        out.format = out.format or sub.format
        out.pattern = out.pattern or sub.pattern
        for key, value in sub.bounds.items():
            _tightest(out.bounds, key, value)
        out.multiple_of = out.multiple_of or sub.multiple_of
        for name, where in sub.properties.items():
            out.properties.setdefault(name, where)
        out.required |= sub.required
        out.closed = out.closed or sub.closed
        out.additional = out.additional or sub.additional
        out.items = out.items or sub.items
        out.branches += sub.branches
        for key, where in sub.origin.items():
            out.origin.setdefault(key, where)

    def _own(self, pointer: str, node: dict[str, Any], out: Flat) -> None:
        def mark(keyword: str) -> None:
            out.origin.setdefault(keyword, pointer)

        kinds = _types(node)
        if kinds is not None:
            out.types = _intersect(out.types, kinds)
            mark("type")
        values = [node["const"]] if "const" in node else node.get("enum")
        if isinstance(values, list):
            out.enum = values if out.enum is None else [v for v in out.enum if v in values]
            mark("enum")
        if isinstance(node.get("format"), str) and out.format is None:
            out.format = node["format"]
            mark("format")
        if isinstance(node.get("pattern"), str) and out.pattern is None:
            out.pattern = node["pattern"]
            mark("pattern")
        for bound in BOUNDS:
            value = node.get(bound)
            if isinstance(value, int | float) and not isinstance(value, bool):
                _tightest(out.bounds, bound, float(value))
                mark(bound)
        if isinstance(node.get("multipleOf"), int | float):
            out.multiple_of = float(node["multipleOf"])
            mark("multipleOf")
        for name in node.get("properties") or {}:
            escaped = str(name).replace("~", "~0").replace("/", "~1")
            out.properties.setdefault(str(name), f"{pointer}/properties/{escaped}")
        if node.get("properties") is not None:
            mark("properties")
        for name in node.get("required") or []:
            out.required.add(str(name))
            out.origin.setdefault(f"required:{name}", pointer)
        additional = node.get("additionalProperties")
        if additional is False:
            out.closed = True
            mark("additionalProperties")
        elif isinstance(additional, dict) and out.additional is None:
            out.additional = f"{pointer}/additionalProperties"
        if isinstance(node.get("items"), dict) and out.items is None:
            out.items = f"{pointer}/items"


def _tightest(bounds: dict[str, float], key: str, value: float) -> None:
    if key not in bounds:
        bounds[key] = value
    elif key in UPPER_BOUNDS:
        bounds[key] = min(bounds[key], value)
    else:
        bounds[key] = max(bounds[key], value)


# -- places --------------------------------------------------------------------------------------


def place(document: dict[str, Any], pointer: str, ops: dict[str, str]) -> str:
    """A readable, view-independent name of a place: `Workflow.nodes[].config`, `page`,
    `createWorkflow.request.name`. Union and `allOf` branches are left out, so the docs view's
    `X or null` wrappers name the same place as the contract's `X`."""
    parts = [p.replace("~1", "/").replace("~0", "~") for p in pointer[2:].split("/")]
    out, rest = _anchor(document, parts, ops)
    index = 0
    while index < len(rest):
        part = rest[index]
        if part == "properties" and index + 1 < len(rest):
            out += f".{rest[index + 1]}"
            index += 2
        elif part in ("allOf", "anyOf", "oneOf") and index + 1 < len(rest):
            index += 2
        elif part == "items":
            out += "[]"
            index += 1
        elif part == "additionalProperties":
            out += ".*"
            index += 1
        else:
            out += f"/{part}"
            index += 1
    return out


def _anchor(
    document: dict[str, Any], parts: list[str], ops: dict[str, str]
) -> tuple[str, list[str]]:
    """The named thing a pointer starts in, and the rest of its parts."""
    if parts[:2] == ["components", "schemas"] and len(parts) > 2:
        return parts[2], parts[3:]
    if parts[:2] == ["components", "parameters"] and len(parts) > 2:
        return f"parameters.{parts[2]}", parts[4:] if parts[3:4] == ["schema"] else parts[3:]
    if parts[:2] == ["components", "responses"] and len(parts) > 2:
        return f"responses.{parts[2]}", _after_schema(parts[3:])
    if parts[:1] == ["paths"] and len(parts) > 2:
        op_pointer = "#/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts[:3])
        name = ops.get(op_pointer, f"{parts[2].upper()} {parts[1]}")
        rest = parts[3:]
        if rest[:1] == ["requestBody"]:
            return f"{name}.request", _after_schema(rest[1:])
        if rest[:1] == ["responses"] and len(rest) > 1:
            return f"{name}.{rest[1]}", _after_schema(rest[2:])
        if rest[:1] == ["parameters"] and len(rest) > 1:
            param = _get(document, parts[:3] + rest[:2])
            label = f"{param.get('in')}.{param.get('name')}" if isinstance(param, dict) else rest[1]
            return f"{name}.{label}", rest[3:] if rest[2:3] == ["schema"] else rest[2:]
        return name, rest
    return "/".join(parts[:2]), parts[2:]


def _after_schema(parts: list[str]) -> list[str]:
    """`content/application~1json/schema/...` → `...`."""
    if parts[:1] == ["content"] and len(parts) > 2 and parts[2] == "schema":
        return parts[3:]
    return parts


def _get(document: Any, parts: list[str]) -> Any:
    node = document
    for part in parts:
        if isinstance(node, list) and part.isdigit():
            node = node[int(part)] if int(part) < len(node) else None
        elif isinstance(node, dict):
            node = node.get(part)
        else:
            return None
    return node
