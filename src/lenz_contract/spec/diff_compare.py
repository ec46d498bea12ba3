"""The schema half of one comparison: two schemas, keyword by keyword (`diff.py` says why).

`SchemaComparison.schema(old, new, ctx)` flattens both (`diff_schema`) and reports each keyword
that changes what is admitted: types, enums, formats, patterns, bounds, properties (added,
removed, made required or optional), `additionalProperties`, items and union branches, each
placed where the changed keyword is written.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

from .diff_rules import BOUNDS, UPPER_BOUNDS, kebab
from .diff_schema import Flat, Flattener, place


@dataclass
class Found:
    """One change as one comparison saw it."""

    kind: str
    place: str
    detail: str
    old: str | None
    new: str | None
    flags: frozenset[str] = frozenset()
    operations: set[str] = field(default_factory=set)
    where: list[str] = field(default_factory=list)

    @property
    def id(self) -> str:
        return f"{self.kind}:{self.place}"


@dataclass(frozen=True)
class Ctx:
    """Where a schema comparison is: the operation, the side, and the path in the message."""

    op: str
    side: str  # request | response
    path: str


class SchemaComparison:
    """What two documents' schemas differ in; `found` collects the changes by id."""

    def __init__(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        self.old, self.new = old, new
        self.old_flat, self.new_flat = Flattener(old), Flattener(new)
        self.old_names: dict[str, str] = {}
        self.new_names: dict[str, str] = {}
        self.found: dict[str, Found] = {}
        self._stack: set[tuple[str, str, str]] = set()

    def place_of(self, pointer: str | None, new: bool) -> str:
        if pointer is None:
            return "?"
        document, names = (self.new, self.new_names) if new else (self.old, self.old_names)
        return place(document, pointer, names)

    def add(
        self,
        kind: str,
        where: str,
        detail: str,
        old: str | None,
        new: str | None,
        ctx: Ctx | None = None,
        flags: frozenset[str] = frozenset(),
        op: str | None = None,
    ) -> None:
        found = Found(kind, where, detail, old, new, flags)
        existing = self.found.setdefault(found.id, found)
        if op is None and ctx is None:  # an operation-level change: its place starts with it
            head = where.split(":", 1)[0]
            known = set(self.old_names.values()) | set(self.new_names.values())
            op = head if head in known else None
        if op is not None:
            existing.operations.add(op)
        if ctx is not None:
            existing.operations.add(ctx.op)
            label = f"{ctx.op} {ctx.path}"
            if label not in existing.where and len(existing.where) < 5:
                existing.where.append(label)

    def schema(self, old_pointer: str, new_pointer: str, ctx: Ctx) -> None:
        key = (old_pointer, new_pointer, ctx.side)
        if key in self._stack:
            return
        self._stack.add(key)
        try:
            self._schema(self.old_flat.flat(old_pointer), self.new_flat.flat(new_pointer), ctx)
        finally:
            self._stack.discard(key)

    def _schema(self, a: Flat, b: Flat, ctx: Ctx) -> None:
        self._types(a, b, ctx)
        self._enum(a, b, ctx)
        self._text(a, b, ctx, "format")
        self._text(a, b, ctx, "pattern")
        self._bounds(a, b, ctx)
        self._properties(a, b, ctx)
        self._closed(a, b, ctx)
        if a.items and b.items:
            self.schema(a.items, b.items, Ctx(ctx.op, ctx.side, f"{ctx.path}[]"))
        if a.additional and b.additional:
            self.schema(a.additional, b.additional, Ctx(ctx.op, ctx.side, f"{ctx.path}.*"))
        self._branches(a, b, ctx)

    def _emit(self, ctx: Ctx, kind: str, a: Flat, b: Flat, keyword: str, detail: str) -> None:
        """A keyword-level change, placed where NEW writes the keyword (else where OLD did)."""
        old, new = a.where(keyword), b.where(keyword)
        if keyword in b.origin or keyword not in a.origin:
            where = self.place_of(new, True)
        else:
            where = self.place_of(old, False)
        self.add(f"{ctx.side}-{kind}", where, f"{ctx.path}: {detail}", old, new, ctx)

    def _types(self, a: Flat, b: Flat, ctx: Ctx) -> None:
        if a.types == b.types:
            return
        if b.types is None:
            kind, detail = "type-widened", f"any type now (was {_show(a.types)})"
        elif a.types is None:
            kind, detail = "type-narrowed", f"only {_show(b.types)} now (was any)"
        else:
            added = any(not _admits(a.types, t) for t in b.types)
            removed = any(not _admits(b.types, t) for t in a.types)
            if not (added or removed):
                return
            kind = (
                "type-changed"
                if added and removed
                else "type-widened"
                if added
                else "type-narrowed"
            )
            detail = f"{_show(a.types)} → {_show(b.types)}"
        self._emit(ctx, kind, a, b, "type", detail)

    def _enum(self, a: Flat, b: Flat, ctx: Ctx) -> None:
        if a.enum is None and b.enum is None:
            return
        if a.enum is None:
            self._emit(ctx, "enum-added", a, b, "enum", f"only {_values(b.enum)} now")
        elif b.enum is None:
            self._emit(ctx, "enum-removed", a, b, "enum", f"any value now (was {_values(a.enum)})")
        else:
            old, new = _keys(a.enum), _keys(b.enum)
            added = _values([v for v in b.enum if _key(v) not in old])
            removed = _values([v for v in a.enum if _key(v) not in new])
            if added:
                self._emit(ctx, "enum-value-added", a, b, "enum", f"new value(s) {added}")
            if removed:
                self._emit(ctx, "enum-value-removed", a, b, "enum", f"value(s) {removed} gone")

    def _text(self, a: Flat, b: Flat, ctx: Ctx, keyword: str) -> None:
        before, after = getattr(a, keyword), getattr(b, keyword)
        if before == after:
            return
        if before is None:
            self._emit(ctx, f"{keyword}-added", a, b, keyword, f"{keyword} {after!r} now")
        elif after is None:
            self._emit(ctx, f"{keyword}-removed", a, b, keyword, f"{keyword} {before!r} gone")
        else:
            detail = f"{keyword} {_short(before)} → {_short(after)}"
            self._emit(ctx, f"{keyword}-changed", a, b, keyword, detail)

    def _bounds(self, a: Flat, b: Flat, ctx: Ctx) -> None:
        for bound in BOUNDS:
            before, after = a.bounds.get(bound), b.bounds.get(bound)
            if before == after:
                continue
            upper = bound in UPPER_BOUNDS
            if before is None:
                tighter = True
            elif after is None:
                tighter = False
            else:
                tighter = after < before if upper else after > before
            verb = "tightened" if tighter else "loosened"
            detail = f"{bound} {_number(before)} → {_number(after)}"
            self._emit(ctx, f"{kebab(bound)}-{verb}", a, b, bound, detail)
        if a.multiple_of != b.multiple_of:
            detail = f"multipleOf {_number(a.multiple_of)} → {_number(b.multiple_of)}"
            self._emit(ctx, "multiple-of-changed", a, b, "multipleOf", detail)

    def _properties(self, a: Flat, b: Flat, ctx: Ctx) -> None:
        for name in sorted(set(a.properties) | set(b.properties) | a.required | b.required):
            path = Ctx(ctx.op, ctx.side, f"{ctx.path}.{name}")
            old_at, new_at = a.properties.get(name), b.properties.get(name)
            in_old = old_at is not None or name in a.required
            in_new = new_at is not None or name in b.required
            old_place = old_at or a.where(f"required:{name}")
            new_place = new_at or b.where(f"required:{name}")
            if in_old and not in_new:
                flags = frozenset() if b.closed else frozenset({"open"})
                self.add(
                    f"{ctx.side}-property-removed",
                    self._prop(old_place, name, False),
                    f"{path.path} is gone",
                    old_place,
                    b.where("properties"),
                    path,
                    flags,
                )
                continue
            if in_new and not in_old:
                required = name in b.required
                flags = frozenset({"required"} if required else set()) | (
                    frozenset() if a.closed else frozenset({"open"})
                )
                self.add(
                    f"{ctx.side}-property-added",
                    self._prop(new_place, name, True),
                    f"{path.path} is new" + (" (required)" if required else ""),
                    a.where("properties"),
                    new_place,
                    path,
                    flags,
                )
                continue
            required = name in b.required
            if required != (name in a.required):
                now = "required" if required else "optional"  # placed where it is required
                self.add(
                    f"{ctx.side}-property-became-{now}",
                    self._prop(new_place if required else old_place, name, required),
                    f"{path.path} is now {now}",
                    a.where(f"required:{name}"),
                    b.where(f"required:{name}"),
                    path,
                )
            if old_at is not None and new_at is not None:
                self.schema(old_at, new_at, path)

    def _prop(self, pointer: str, name: str, new: bool) -> str:
        shown = self.place_of(pointer, new)
        return shown if shown.endswith(f".{name}") else f"{shown}.{name}"

    def _closed(self, a: Flat, b: Flat, ctx: Ctx) -> None:
        if a.closed == b.closed:
            return
        kind, now = ("closed", "refused") if b.closed else ("opened", "admitted")
        detail = f"unknown properties are now {now}"
        self._emit(ctx, f"additional-properties-{kind}", a, b, "additionalProperties", detail)

    def _branches(self, a: Flat, b: Flat, ctx: Ctx) -> None:
        if not a.branches and not b.branches:
            return
        old = {self._branch_key(self.old_flat, p, i): p for i, p in enumerate(a.branches)}
        new = {self._branch_key(self.new_flat, p, i): p for i, p in enumerate(b.branches)}
        for key, pointer in old.items():
            if key in new:
                self.schema(pointer, new[key], ctx)
            else:
                self._lone_branch(ctx, key, pointer, a, b, new=False)
        for key, pointer in new.items():
            if key not in old:
                self._lone_branch(ctx, key, pointer, a, b, new=True)

    def _lone_branch(
        self, ctx: Ctx, key: str, pointer: str, a: Flat, b: Flat, *, new: bool
    ) -> None:
        """A union branch only one side has (NEW when `new`): placed where that side lists its
        branches; the other side's pointer is where it lists its own."""
        mine, other = (b, a) if new else (a, b)
        old_at, new_at = (
            (other.where("branches"), pointer) if new else (pointer, other.where("branches"))
        )
        detail = f"a {key} branch is new" if new else f"the {key} branch is gone"
        self.add(
            f"{ctx.side}-union-branch-{'added' if new else 'removed'}",
            f"{self.place_of(mine.where('branches'), new)}|{key}",
            f"{ctx.path}: {detail}",
            old_at,
            new_at,
            ctx,
        )

    @staticmethod
    def _branch_key(flattener: Flattener, pointer: str, index: int) -> str:
        node = flattener.node(pointer)
        if isinstance(node, dict) and isinstance(node.get("$ref"), str):
            return str(node["$ref"]).rsplit("/", 1)[1]
        return f"#{index}"


def covering(status: str, responses: dict[str, Any]) -> str | None:
    """The response of `responses` that covers `status`: itself, its range (`4XX`), `default`."""
    if status in responses:
        return status
    if status[:1].isdigit() and f"{status[0]}XX" in responses:
        return f"{status[0]}XX"
    return "default" if "default" in responses and status != "default" else None


def _admits(types: frozenset[str], kind: str) -> bool:
    return kind in types or (kind == "integer" and "number" in types)


def _show(types: frozenset[str] | None) -> str:
    return "any" if types is None else " or ".join(sorted(types)) or "nothing"


def _key(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def _keys(values: list[Any] | None) -> set[str]:
    return {_key(v) for v in values or []}


def _values(values: list[Any] | None) -> str:
    return ", ".join(json.dumps(v, ensure_ascii=False) for v in values or [])


def _number(value: float | None) -> str:
    if value is None:
        return "none"
    return str(int(value)) if math.isfinite(value) and value.is_integer() else str(value)


def _short(text: str) -> str:
    return repr(text) if len(text) <= 40 else repr(text[:37] + "...")
