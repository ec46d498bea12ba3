"""The contract as Python objects: operations, parameters and responses, read from the document.

Nothing here restates the contract: every name, status and schema comes from the spec file.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from .document import deref, read_document, resolve_pointer
from .errors import SpecError, SpecProblem
from .resources import SHIPPED_SPEC_PATH
from .routing import Router
from .schemas import SchemaValidator, compile_validator
from .views import View, derive

HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
JSON_MEDIA_TYPE = "application/json"


def escape_pointer(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


def deref_at(document: dict[str, Any], pointer: str) -> tuple[Any, str]:
    """The object at `pointer` after following its `$ref` chain, and where it really lives."""
    node = resolve_pointer(document, pointer)
    for _ in range(32):
        if not (isinstance(node, dict) and isinstance(node.get("$ref"), str)):
            return node, pointer
        pointer = node["$ref"]
        node = resolve_pointer(document, pointer)
    raise KeyError(f"reference chain too long at {pointer}")


def provenance(node: dict[str, Any]) -> tuple[str | None, str | None]:
    """`(x-lenz-source, x-lenz-reason)` of a spec object."""
    return node.get("x-lenz-source"), node.get("x-lenz-reason")


@dataclass(frozen=True)
class Parameter:
    name: str
    location: str
    required: bool
    schema_pointer: str
    schema: dict[str, Any]
    allow_empty: bool
    source: str | None
    extensions: dict[str, Any]

    @property
    def default(self) -> Any:
        return self.schema.get("default")


@dataclass(frozen=True)
class ResponseSpec:
    status: str
    description: str
    schema_pointer: str | None
    message: str | None
    source: str | None
    reason: str | None
    examples: dict[str, Any]
    links: dict[str, dict[str, Any]]


@dataclass(frozen=True, repr=False)
class Operation:
    operation_id: str
    method: str
    path: str
    summary: str
    parameters: tuple[Parameter, ...]
    request_body_pointer: str | None
    request_body_required: bool
    request_examples: dict[str, Any]
    responses: dict[str, ResponseSpec]
    security_schemes: tuple[str, ...]
    source: str | None
    pointer: str

    def __repr__(self) -> str:
        return f"<Operation {self.operation_id}: {self.method} {self.path}>"

    def parameter(self, name: str, location: str = "query") -> Parameter | None:
        for param in self.parameters:
            if param.name == name and param.location == location:
                return param
        return None

    def query_parameters(self) -> tuple[Parameter, ...]:
        return tuple(p for p in self.parameters if p.location == "query")

    def response_for(self, status: int) -> ResponseSpec | None:
        """The response the contract gives for `status`: exact code, then `4XX`, then `default`."""
        return (
            self.responses.get(str(status))
            or self.responses.get(f"{str(status)[0]}XX")
            or self.responses.get("default")
        )

    def success_statuses(self) -> list[int]:
        return sorted(int(s) for s in self.responses if s.isdigit() and s.startswith("2"))

    @property
    def requires_auth(self) -> bool:
        return bool(self.security_schemes)


class Spec:
    """A loaded contract: the raw document, its operations, and compiled validators on demand."""

    def __init__(self, document: dict[str, Any], *, path: Path | None = None) -> None:
        self.document = document
        self.path = path
        self._validators: dict[str, SchemaValidator] = {}
        self._views: dict[View, Spec] = {}
        self.origin: Spec | None = None  # the contract a view was derived from
        self.view = View.CONTRACT  # which view of the contract this is
        self.overlay: Path | None = None  # the overlay `load` applied, if any

    @classmethod
    def load(cls, path: Path | str | None = None, *, overlay: Path | str | None = None) -> Spec:
        """Load the shipped contract, or the spec file at `path`, amended by the OpenAPI
        Overlay at `overlay` when given (`overlay.py`); raises `SpecError` (an `OverlayError`
        names the overlay's file and action)."""
        from .overlay import load_with_overlay  # PyYAML with it: not on the mock's warm start

        source = Path(path) if path is not None else SHIPPED_SPEC_PATH
        document = load_with_overlay(read_document(source), overlay)
        spec = cls(document, path=source)
        spec.overlay = Path(overlay) if overlay is not None else None
        return spec

    @cached_property
    def operations(self) -> dict[str, Operation]:
        """Operations by operationId, in document order."""
        return {op.operation_id: op for op in self._read_operations()}

    def operation(self, operation_id: str) -> Operation:
        try:
            return self.operations[operation_id]
        except KeyError:
            raise SpecError(
                [SpecProblem("$.paths", f"no operation with operationId {operation_id!r}")]
            ) from None

    @cached_property
    def router(self) -> Router:
        """The one path matcher (`routing.Router`), built once from this spec's own paths."""
        return Router(self.operations.values())

    def match(self, method: str, path: str) -> tuple[Operation | None, dict[str, str], list[str]]:
        """The operation for `method path`, its path parameters, and the methods the path allows.

        `path` is the percent-decoded path. The parameters are the raw strings of the matched
        template (`{}` when no operation matched); an empty segment is a parameter too
        (`/api/workflows//logs` is listWorkflowLogs with `id == ""`, for its schema to refuse).
        The allowed methods are every method of the path the request matched, whichever was
        asked (`[]` when no path matched): with no operation, non-empty means a 405, empty a
        404. See `routing` for the rules, shared with the mock and the proxy.
        """
        found = self.router.match(method, path)
        params = dict(found.params) if found.operation is not None else {}
        return found.operation, params, list(found.allowed)

    def as_view(self, view: View) -> Spec:
        """This contract as `view` sees it (`views`): a Spec of its own, derived once from the
        contract as written (asking a view for another view asks the contract)."""
        if self.origin is not None:
            return self.origin.as_view(view)
        if view is View.CONTRACT:
            return self
        if view not in self._views:
            self.adopt_view(view, derive(self.document, view))
        return self._views[view]

    def adopt_view(self, view: View, document: dict[str, Any]) -> Spec:
        """Take `document` as `view` of this contract, as `derive` made it earlier (the mock
        keeps derived views in a cache keyed by the contract's bytes and the code that derived
        them: deriving the strict view costs ~4 ms of its start-up)."""
        derived = Spec(document, path=self.path)
        derived.overlay = self.overlay
        derived.origin, derived.view = self, view
        self._views[view] = derived
        return derived

    def validator(self, pointer: str, *, view: View | None = None) -> SchemaValidator:
        """A compiled validator for the schema at `pointer`: in this spec's own document, or in
        `view` of its contract (compiled once)."""
        if view is not None and self.as_view(view) is not self:
            return self.as_view(view).validator(pointer)
        if pointer not in self._validators:
            self._validators[pointer] = compile_validator(self.document, pointer)
        return self._validators[pointer]

    def schema_at(self, pointer: str) -> Any:
        return resolve_pointer(self.document, pointer)

    def _read_operations(self) -> Iterator[Operation]:
        doc = self.document
        default_security = doc.get("security", [])
        for path, item in (doc.get("paths") or {}).items():
            item_pointer = f"#/paths/{escape_pointer(path)}"
            item = deref(doc, item)
            shared = item.get("parameters", [])
            for method in HTTP_METHODS:
                if method not in item:
                    continue
                pointer = f"{item_pointer}/{method}"
                raw = item[method]
                params = self._read_parameters(pointer, shared, raw.get("parameters", []))
                body_pointer, body_required, body_examples = self._read_body(pointer, raw)
                responses = {
                    str(status): self._read_response(f"{pointer}/responses/{status}")
                    for status in (raw.get("responses") or {})
                }
                security = raw.get("security", default_security)
                schemes = tuple(name for requirement in security for name in requirement)
                yield Operation(
                    operation_id=raw.get("operationId") or f"{method.upper()} {path}",
                    method=method.upper(),
                    path=path,
                    summary=raw.get("summary", ""),
                    parameters=params,
                    request_body_pointer=body_pointer,
                    request_body_required=body_required,
                    request_examples=body_examples,
                    responses=responses,
                    security_schemes=schemes,
                    source=raw.get("x-lenz-source"),
                    pointer=pointer,
                )

    def _read_parameters(
        self, op_pointer: str, shared: list[Any], own: list[Any]
    ) -> tuple[Parameter, ...]:
        path_pointer = op_pointer.rsplit("/", 1)[0]
        found: dict[tuple[str, str], Parameter] = {}
        sources = [(f"{path_pointer}/parameters/{i}", 0) for i in range(len(shared))]
        sources += [(f"{op_pointer}/parameters/{i}", 1) for i in range(len(own))]
        for pointer, _ in sources:
            node, where = deref_at(self.document, pointer)
            schema_pointer = f"{where}/schema"
            schema, _ = deref_at(self.document, schema_pointer)
            param = Parameter(
                name=node["name"],
                location=node["in"],
                required=bool(node.get("required", node["in"] == "path")),
                schema_pointer=schema_pointer,
                schema=schema,
                allow_empty=bool(node.get("allowEmptyValue", False)),
                source=node.get("x-lenz-source"),
                extensions={k: v for k, v in node.items() if k.startswith("x-")},
            )
            found[(param.name, param.location)] = param  # operation level wins
        return tuple(found.values())

    def _read_body(
        self, op_pointer: str, raw: dict[str, Any]
    ) -> tuple[str | None, bool, dict[str, Any]]:
        if "requestBody" not in raw:
            return None, False, {}
        body, where = deref_at(self.document, f"{op_pointer}/requestBody")
        media = (body.get("content") or {}).get(JSON_MEDIA_TYPE)
        if media is None:
            return None, bool(body.get("required")), {}
        schema_pointer = f"{where}/content/{escape_pointer(JSON_MEDIA_TYPE)}/schema"
        return schema_pointer, bool(body.get("required")), self._examples(media)

    def _read_response(self, pointer: str) -> ResponseSpec:
        node, where = deref_at(self.document, pointer)
        media = (node.get("content") or {}).get(JSON_MEDIA_TYPE)
        schema_pointer = (
            f"{where}/content/{escape_pointer(JSON_MEDIA_TYPE)}/schema"
            if media is not None
            else None
        )
        links = {
            name: deref(self.document, link) for name, link in (node.get("links") or {}).items()
        }
        source, reason = provenance(node)
        return ResponseSpec(
            status=pointer.rsplit("/", 1)[1],
            description=node.get("description", ""),
            schema_pointer=schema_pointer,
            message=media.get("x-lenz-message") if media is not None else None,
            source=source,
            reason=reason,
            examples=self._examples(media) if media else {},
            links=links,
        )

    def _examples(self, media: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, example in (media.get("examples") or {}).items():
            example = deref(self.document, example)
            if "value" in example:
                out[name] = example["value"]
        return out


def load_spec(path: Path | str | None = None, *, overlay: Path | str | None = None) -> Spec:
    """Load the shipped contract (or another spec file), optionally amended; see `Spec.load`."""
    return Spec.load(path, overlay=overlay)
