"""The operation half of one comparison (`diff.py` says why): operations matched by method and
path, their ids, security, parameters, request bodies and answers; schemas go to
`SchemaComparison`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .diff_compare import Ctx, Found, SchemaComparison, covering
from .diff_schema import MAX_DEPTH, DiffError, Flattener
from .document import resolve_pointer
from .errors import SpecProblem
from .provenance import escape

HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
JSON_MEDIA = "application/json"


@dataclass(frozen=True)
class OpRef:
    op_id: str
    method: str
    path: str
    pointer: str
    node: dict[str, Any]
    path_item: dict[str, Any]


def _normal_path(path: str) -> str:
    """`/api/workflows/{id}` and `/api/workflows/{workflowId}` are the same route."""
    out, depth = [], 0
    for char in path:
        if char == "{":
            depth += 1
            if depth == 1:
                out.append("{}")
        elif char == "}":
            depth = max(0, depth - 1)
        elif depth == 0:
            out.append(char)
    return "".join(out)


class Comparison(SchemaComparison):
    """One comparison of two documents (both as written, or both in the DOCS view)."""

    def __init__(
        self,
        old: dict[str, Any],
        new: dict[str, Any],
        written: tuple[dict[str, Any], dict[str, Any]] | None = None,
    ) -> None:
        """`written`: the documents as written, when `old` and `new` are views derived from
        them; a status a view adds (the docs view's `2XX`, `4XX`, `403`) then only covers
        others, and is never reported itself (the status it copies already is)."""
        super().__init__(old, new)
        self.written = written
        self.old_ops, self.new_ops = self._operations(old), self._operations(new)
        self.old_names = {ref.pointer: ref.op_id for ref in self.old_ops.values()}
        self.new_names = {ref.pointer: ref.op_id for ref in self.new_ops.values()}

    @staticmethod
    def _operations(document: dict[str, Any]) -> dict[tuple[str, str], OpRef]:
        paths = document.get("paths")
        if not isinstance(paths, dict):
            raise DiffError([SpecProblem("$.paths", "no paths: not an OpenAPI document")])
        out = {}
        for path, item in paths.items():
            if not isinstance(item, dict):
                continue
            for method in HTTP_METHODS:
                node = item.get(method)
                if not isinstance(node, dict):
                    continue
                escaped = str(path).replace("~", "~0").replace("/", "~1")
                pointer = f"#/paths/{escaped}/{method}"
                op_id = node.get("operationId") or f"{method.upper()} {path}"
                key = (method.upper(), _normal_path(str(path)))
                out[key] = OpRef(str(op_id), method.upper(), str(path), pointer, node, item)
        return out

    def run(self) -> dict[str, Found]:
        for key, old in self.old_ops.items():
            new = self.new_ops.get(key)
            if new is None:
                self.add(
                    "operation-removed",
                    old.op_id,
                    f"{old.method} {old.path} is gone",
                    old.pointer,
                    None,
                )
            else:
                self.operation(old, new)
        for key, new in self.new_ops.items():
            if key not in self.old_ops:
                self.add(
                    "operation-added",
                    new.op_id,
                    f"{new.method} {new.path} is new",
                    None,
                    new.pointer,
                )
        return self.found

    # -- operations ------------------------------------------------------------------------
    def operation(self, old: OpRef, new: OpRef) -> None:
        op = new.op_id
        if old.op_id != new.op_id:
            self.add(
                "operation-id-changed",
                old.op_id,
                f"operationId {old.op_id} → {new.op_id}",
                old.pointer,
                new.pointer,
            )
        self.security(old, new)
        self.parameters(old, new)
        self.request_body(old, new)
        self.responses(old, new, op)

    def security(self, old: OpRef, new: OpRef) -> None:
        def requirements(document: dict[str, Any], ref: OpRef) -> set[frozenset[str]]:
            """The alternatives of the operation's security (`{}`, the empty one, lets anyone)."""
            raw = ref.node.get("security", document.get("security") or [])
            return {frozenset(r) for r in raw if isinstance(r, dict)}

        before, after = requirements(self.old, old), requirements(self.new, new)
        needs_before = bool(before) and frozenset() not in before
        needs_after = bool(after) and frozenset() not in after
        where = f"{new.pointer}/security"
        if not needs_before and needs_after:
            self.add("security-added", new.op_id, "credentials now needed", old.pointer, where)
        elif needs_before and not needs_after:
            self.add(
                "security-removed", new.op_id, "credentials no longer needed", where, new.pointer
            )
        elif before != after:
            shown = " or ".join(sorted("+".join(sorted(r)) or "none" for r in after))
            self.add(
                "security-changed", new.op_id, f"now: {shown}", f"{old.pointer}/security", where
            )
        for name in sorted(set().union(*before, *after) if before or after else set()):
            self.scheme(name)

    def scheme(self, name: str) -> None:
        def of(document: dict[str, Any]) -> Any:
            return ((document.get("components") or {}).get("securitySchemes") or {}).get(name)

        old, new = of(self.old), of(self.new)
        if not isinstance(old, dict) or not isinstance(new, dict):
            return
        keys = ("type", "scheme", "in", "name", "flows", "openIdConnectUrl")
        changed = [k for k in keys if old.get(k) != new.get(k)]
        if changed:
            pointer = f"#/components/securitySchemes/{name}"
            detail = ", ".join(f"{k}: {old.get(k)!r} → {new.get(k)!r}" for k in changed)
            self.add("security-scheme-changed", name, detail, pointer, pointer)

    def _params(
        self, document: dict[str, Any], ref: OpRef
    ) -> dict[tuple[str, str], tuple[dict[str, Any], str]]:
        out: dict[tuple[str, str], tuple[dict[str, Any], str]] = {}
        item_pointer = ref.pointer.rsplit("/", 1)[0]
        sources = [
            (f"{item_pointer}/parameters/{i}", p)
            for i, p in enumerate(ref.path_item.get("parameters") or [])
        ]
        sources += [
            (f"{ref.pointer}/parameters/{i}", p)
            for i, p in enumerate(ref.node.get("parameters") or [])
        ]
        flattener = self.new_flat if document is self.new else self.old_flat
        for pointer, raw in sources:
            where = pointer
            for _ in range(MAX_DEPTH):
                if not (isinstance(raw, dict) and isinstance(raw.get("$ref"), str)):
                    break
                where = raw["$ref"]
                raw = flattener.node(where)
            if isinstance(raw, dict) and "name" in raw and "in" in raw:
                out[(str(raw["in"]), str(raw["name"]))] = (raw, where)
        return out

    def parameters(self, old: OpRef, new: OpRef) -> None:
        before, after = self._params(self.old, old), self._params(self.new, new)
        op = new.op_id
        for key, (param, where) in before.items():
            label = f"{key[0]}.{key[1]}"
            if key not in after:
                self.add(
                    "request-parameter-removed",
                    f"{op}:{label}",
                    f"{label} is gone",
                    where,
                    new.pointer,
                )
                continue
            other, other_where = after[key]
            required_before = bool(param.get("required", key[0] == "path"))
            required_after = bool(other.get("required", key[0] == "path"))
            if required_after and not required_before:
                self.add(
                    "request-parameter-became-required",
                    f"{op}:{label}",
                    f"{label} is now required",
                    where,
                    other_where,
                )
            elif required_before and not required_after:
                self.add(
                    "request-parameter-became-optional",
                    f"{op}:{label}",
                    f"{label} is now optional",
                    where,
                    other_where,
                )
            if isinstance(param.get("schema"), dict) and isinstance(other.get("schema"), dict):
                self.schema(f"{where}/schema", f"{other_where}/schema", Ctx(op, "request", label))
        for key, (param, where) in after.items():
            if key in before:
                continue
            label = f"{key[0]}.{key[1]}"
            required = bool(param.get("required", key[0] == "path"))
            kind = (
                "request-required-parameter-added"
                if required
                else "request-optional-parameter-added"
            )
            self.add(kind, f"{op}:{label}", f"{label} is new", old.pointer, where)

    def _body(self, flattener: Flattener, ref: OpRef) -> tuple[dict[str, Any] | None, str]:
        node = ref.node.get("requestBody")
        where = f"{ref.pointer}/requestBody"
        for _ in range(MAX_DEPTH):
            if not (isinstance(node, dict) and isinstance(node.get("$ref"), str)):
                break
            where = node["$ref"]
            node = flattener.node(where)
        return (node if isinstance(node, dict) else None), where

    def request_body(self, old: OpRef, new: OpRef) -> None:
        before, old_where = self._body(self.old_flat, old)
        after, new_where = self._body(self.new_flat, new)
        op = new.op_id
        if before is None and after is None:
            return
        if before is None:
            assert after is not None
            kind = (
                "request-required-body-added"
                if after.get("required")
                else "request-optional-body-added"
            )
            self.add(kind, op, "the operation now takes a body", old.pointer, new_where)
            return
        if after is None:
            self.add(
                "request-body-removed",
                op,
                "the operation no longer takes a body",
                old_where,
                new.pointer,
            )
            return
        if after.get("required") and not before.get("required"):
            self.add(
                "request-body-became-required", op, "the body is now required", old_where, new_where
            )
        elif before.get("required") and not after.get("required"):
            self.add(
                "request-body-became-optional", op, "the body is now optional", old_where, new_where
            )
        self.content(before, after, old_where, new_where, op, "request", "body")

    def content(
        self,
        before: dict[str, Any],
        after: dict[str, Any],
        old_where: str,
        new_where: str,
        op: str,
        side: str,
        label: str,
    ) -> None:
        old_media = before.get("content") or {}
        new_media = after.get("content") or {}
        prefix = f"{op}:{label}"
        # With no content left (or none before), the body is not described at all: any body.
        lone = (
            (old_media, new_media, "removed", "{} is gone", " (no body is described now)"),
            (new_media, old_media, "added", "{} is new", " (no body was described)"),
        )
        for mine, other, change, words, undescribed in lone:
            flags = frozenset() if other else frozenset({"undescribed"})
            for media in mine:
                if media not in other:
                    self.add(
                        f"{side}-media-type-{change}",
                        f"{prefix}:{media}",
                        words.format(media) + (undescribed if flags else ""),
                        f"{old_where}/content",
                        f"{new_where}/content",
                        flags=flags,
                    )
        a, b = old_media.get(JSON_MEDIA), new_media.get(JSON_MEDIA)
        if isinstance(a, dict) and isinstance(b, dict) and "schema" in a and "schema" in b:
            media = JSON_MEDIA.replace("/", "~1")
            path = "body" if side == "request" else f"{label} body"
            self.schema(
                f"{old_where}/content/{media}/schema",
                f"{new_where}/content/{media}/schema",
                Ctx(op, side, path),
            )

    def _listed(self, index: int, ref: OpRef, status: str) -> bool:
        """Is `status` written in the document (not added by the view)?"""
        if self.written is None:
            return True
        try:
            node = resolve_pointer(self.written[index], ref.pointer)
        except (KeyError, ValueError):
            return False
        return isinstance(node, dict) and status in (node.get("responses") or {})

    def responses(self, old: OpRef, new: OpRef, op: str) -> None:
        before = {str(k): v for k, v in (old.node.get("responses") or {}).items()}
        after = {str(k): v for k, v in (new.node.get("responses") or {}).items()}
        done: set[tuple[str, str]] = set()
        for status in before:
            match = covering(status, after)
            synthetic = not self._listed(0, old, status)
            if match is None:
                if not synthetic:
                    self.add(
                        "response-status-removed",
                        f"{op}:{status}",
                        f"{op} no longer answers {status}",
                        f"{old.pointer}/responses/{escape(status)}",
                        f"{new.pointer}/responses",
                    )
                continue
            if synthetic and not self._listed(1, new, match):
                continue
            done.add((status, match))
            self.response(old, new, status, match, op)
        for status in after:
            if status in before or not self._listed(1, new, status):
                continue
            match = covering(status, before)
            if match is None:
                self.add(
                    "response-status-added",
                    f"{op}:{status}",
                    f"{op} may answer {status}",
                    f"{old.pointer}/responses",
                    f"{new.pointer}/responses/{escape(status)}",
                )
            elif (match, status) not in done:
                self.response(old, new, match, status, op)

    def response(self, old: OpRef, new: OpRef, old_status: str, new_status: str, op: str) -> None:
        old_node, old_where = self._response(
            self.old_flat, f"{old.pointer}/responses/{escape(old_status)}"
        )
        new_node, new_where = self._response(
            self.new_flat, f"{new.pointer}/responses/{escape(new_status)}"
        )
        if isinstance(old_node, dict) and isinstance(new_node, dict):
            self.content(old_node, new_node, old_where, new_where, op, "response", new_status)

    def _response(self, flattener: Flattener, pointer: str) -> tuple[Any, str]:
        node = flattener.node(pointer)
        for _ in range(MAX_DEPTH):
            if not (isinstance(node, dict) and isinstance(node.get("$ref"), str)):
                break
            pointer = node["$ref"]
            node = flattener.node(pointer)
        return node, pointer

    # -- schemas ---------------------------------------------------------------------------------
