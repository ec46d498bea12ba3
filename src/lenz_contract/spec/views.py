"""Three views of one contract: what the docs promise, what we decided, and the strict extras.

- `CONTRACT`: the shipped document as written: the docs plus our decisions (the mock follows
  it, client generators read it).
- `STRICT`: `CONTRACT` with every `x-lenz-strict` overlay merged in (enums of statuses, UTC
  timestamps): what the strict conformance profile asserts of answers.
- `DOCS`: `CONTRACT` without any inferred constraint: what the docs profile asserts, so that a
  deployment deciding an open point otherwise is never failed for it.

The DOCS view is derived, never written by hand: the provenance marks in the spec decide what
goes (see `provenance` and docs/contract-decisions.md), plus the rules below (`DOCS_RULES`) for
points the docs leave open that no single keyword carries, each with its reason.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from enum import StrEnum
from typing import Any

from .document import follow_refs
from .provenance import INFERRED_KEYS, SOURCE, Source

STRICT_OVERLAY = "x-lenz-strict"
ADMITS = "x-lenz-admits"
JSON_MEDIA = "application/json"
# Keywords whose value holds one subschema, or a list / map of subschemas.
ONE_SCHEMA = ("items", "not", "if", "then", "else", "additionalProperties", "contains")
SCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
SCHEMA_MAPS = ("properties", "patternProperties", "$defs", "dependentSchemas")


class View(StrEnum):
    DOCS = "docs"
    CONTRACT = "contract"
    STRICT = "strict"


def derive(document: dict[str, Any], view: View) -> dict[str, Any]:
    """A new document: `document` as `view` sees it."""
    out = copy.deepcopy(document)
    if view is View.STRICT:
        _apply_strict(out)
    elif view is View.DOCS:
        for rule in DOCS_RULES:
            rule(out)
    return out


# -- the strict view ---------------------------------------------------------------------------


def _apply_strict(node: Any) -> None:
    if isinstance(node, dict):
        overlay = node.get(STRICT_OVERLAY)
        if isinstance(overlay, dict):
            node.update(copy.deepcopy(overlay))
        for value in node.values():
            _apply_strict(value)
    elif isinstance(node, list):
        for value in node:
            _apply_strict(value)


# -- the docs view -----------------------------------------------------------------------------


def closed_unions_keep_their_types(document: dict[str, Any]) -> None:
    """A union the contract closes (its `oneOf`/`anyOf` named in `x-lenz-inferred`: the node and
    trigger types) goes with `drop_inferred_keys`; what every branch says of a field's JSON type
    stays. A field the schema leaves untyped next to the union (a node's `config`: typed there,
    generators would let config typos compile) takes the JSON types its branches give it, so
    the docs view admits any node type with an object `config`, and refuses `config: 5`."""
    for schema in list(_all_schemas(document)):
        inferred = schema.get(INFERRED_KEYS)
        properties = schema.get("properties")
        if not isinstance(inferred, dict) or not isinstance(properties, dict):
            continue
        for keyword in ("oneOf", "anyOf"):
            branches = schema.get(keyword)
            if keyword not in inferred or not isinstance(branches, list) or not branches:
                continue
            for name, sub in properties.items():
                if not isinstance(sub, dict) or any(k in sub for k in ("type", "$ref", "const")):
                    continue
                if any(k in sub for k in SCHEMA_LISTS):
                    continue
                kinds = [
                    _json_types(document, _branch_property(document, b, name)) for b in branches
                ]
                if kinds and all(kinds):
                    joined = sorted(set().union(*kinds))
                    sub["type"] = joined[0] if len(joined) == 1 else joined


def drop_inferred_keys(document: dict[str, Any]) -> None:
    """Every key named in an `x-lenz-inferred` goes (with `then`/`else` when `if` goes).

    What `x-lenz-admits` names stays: admitting more than the docs show never fails anyone.
    """
    for node in _objects(document):
        inferred = node.get(INFERRED_KEYS)
        if not isinstance(inferred, dict):
            continue
        for key in inferred:
            node.pop(key, None)
            if key == "if":
                node.pop("then", None)
                node.pop("else", None)


def open_inferred_schemas(document: dict[str, Any]) -> None:
    """A schema that is inferred as a whole (the mock's `errors` list) constrains nothing.

    What the mock adds for its users describes the mock, not Lenz: a deployment may send such a
    field in any shape, or not at all.
    """
    for schema in _all_schemas(document):
        if schema.get(SOURCE) == Source.INFERRED.value:
            kept = {k: v for k, v in schema.items() if k.startswith("x-") or k == "description"}
            schema.clear()
            schema.update(kept)


def open_inferred_responses(document: dict[str, Any]) -> None:
    """An answer whose body the docs never show (a token refusal, a size limit) may carry any
    body; a token may be refused with 403 as well as 401 (a JWT middleware answers either, in
    its own words, e.g. `{"message": "invalid or expired jwt"}`)."""
    for operation in _operations(document):
        responses = operation.get("responses") or {}
        for status, response in list(responses.items()):
            resolved = follow_refs(document, response)
            if not isinstance(resolved, dict) or resolved.get(SOURCE) != Source.INFERRED.value:
                continue
            media = (resolved.get("content") or {}).get(JSON_MEDIA)
            if isinstance(media, dict) and media.get(SOURCE) == Source.DOCUMENTED.value:
                continue  # a documented body under an inferred status: the body stays
            opened = {k: v for k, v in resolved.items() if k not in ("content", "$ref")}
            responses[status] = opened
        if "401" in responses and "403" not in responses:
            responses["403"] = copy.deepcopy(responses["401"])
            responses["403"]["description"] = "The token refused (docs view: 401 or 403)."


def any_success_status(document: dict[str, Any]) -> None:
    """The docs give no statuses: any 2xx with the documented success body is a success."""
    for operation in _operations(document):
        responses = operation.get("responses") or {}
        success = next(
            (
                follow_refs(document, responses[s])
                for s in sorted(responses)
                if s.isdigit() and s.startswith("2")
            ),
            None,
        )
        if isinstance(success, dict) and "2XX" not in responses:
            responses["2XX"] = {k: copy.deepcopy(v) for k, v in success.items() if k != "links"}


def any_client_error_status(document: dict[str, Any]) -> None:
    """The contract lists each error status it decided (400, 401, 404, 413, 415); the docs give
    none, so any 4xx with the documented error body is a refusal by the docs (a deployment may
    answer 422 or 409 where the mock answers 400, or 403 where it answers 401)."""
    for operation in _operations(document):
        responses = operation.get("responses") or {}
        refusal = next(
            (
                resolved
                for s in sorted(responses)
                if s.isdigit()
                and s.startswith("4")
                and isinstance(resolved := follow_refs(document, responses[s]), dict)
                and _documents_its_body(resolved)
            ),
            None,
        )
        if refusal is not None and "4XX" not in responses:
            opened = {k: copy.deepcopy(v) for k, v in refusal.items() if k != "links"}
            opened["description"] = "Any refusal, with the documented error body (docs view)."
            responses["4XX"] = opened


def _documents_its_body(response: dict[str, Any]) -> bool:
    media = (response.get("content") or {}).get(JSON_MEDIA)
    return isinstance(media, dict) and media.get(SOURCE) == Source.DOCUMENTED.value


def requests_admit_null(document: dict[str, Any]) -> None:
    """A request body may send `null` for any documented field (a server may read it as
    absent, as Go's encoding/json does): only a value of another JSON type is wrong by the docs.
    """
    seen: set[int] = set()
    for operation in _operations(document):
        body = follow_refs(document, operation.get("requestBody") or {})
        media = (body.get("content") or {}).get(JSON_MEDIA) if isinstance(body, dict) else None
        if isinstance(media, dict) and isinstance(media.get("schema"), dict):
            media["schema"] = _nullable(media["schema"])
            for schema in _reachable(document, media["schema"]):
                if id(schema) in seen:
                    continue
                seen.add(id(schema))
                for key in ("properties",):
                    for name, sub in list((schema.get(key) or {}).items()):
                        schema[key][name] = _nullable(sub)
                if isinstance(schema.get("items"), dict):
                    schema["items"] = _nullable(schema["items"])


def optional_answer_fields_admit_null(document: dict[str, Any]) -> None:
    """An optional field of an answer may be `null` (a Go backend writes an absent map, slice
    or pointer so): the docs show `null` for absent values (`updated_at`, `error`) and never say
    an optional field is left out rather than null. Required fields keep their types."""
    seen: set[int] = set()
    for operation in _operations(document):
        for response in (operation.get("responses") or {}).values():
            resolved = follow_refs(document, response)
            media = ((resolved or {}).get("content") or {}).get(JSON_MEDIA)
            if not isinstance(media, dict) or not isinstance(media.get("schema"), dict):
                continue
            for schema in _reachable(document, media["schema"]):
                if id(schema) in seen:
                    continue
                seen.add(id(schema))
                required = set(schema.get("required") or [])
                for name, sub in list((schema.get("properties") or {}).items()):
                    if name not in required:
                        schema["properties"][name] = _nullable(sub)


def query_values_not_asserted(document: dict[str, Any]) -> None:
    """`page` and `limit` below 1 or not an integer may be refused or read as the defaults, so
    the docs view asserts nothing of a query value (the semantic checks judge the answer)."""
    for parameter in _parameters(document):
        if parameter.get("in") == "query" and isinstance(parameter.get("schema"), dict):
            schema = follow_refs(document, parameter["schema"])
            parameter["schema"] = {
                k: v for k, v in schema.items() if k in ("description", "default", "examples")
            }


def examples_are_the_docs_payloads(document: dict[str, Any]) -> None:
    """The docs profile asks a deployment to accept the docs' own payloads, nothing else: the
    examples of single fields (`examples` inside schemas) go, so that no request is composed
    from them and a value the docs view merely admits (`null`)."""
    for schema in _all_schemas(document):
        schema.pop("examples", None)
        schema.pop("example", None)


DOCS_RULES: tuple[Callable[[dict[str, Any]], None], ...] = (
    closed_unions_keep_their_types,  # before `drop_inferred_keys` drops the unions
    drop_inferred_keys,
    open_inferred_schemas,
    open_inferred_responses,
    any_success_status,
    any_client_error_status,
    requests_admit_null,
    optional_answer_fields_admit_null,
    query_values_not_asserted,
    examples_are_the_docs_payloads,
)


# -- walking the document ----------------------------------------------------------------------


def _nullable(schema: Any) -> Any:
    """`schema` or null."""
    if not isinstance(schema, dict):
        return schema
    kind = schema.get("type")
    if (
        isinstance(kind, str)
        and "$ref" not in schema
        and not any(k in schema for k in SCHEMA_LISTS)
    ):
        return {**schema, "type": [kind, "null"]}
    if isinstance(kind, list):
        return schema if "null" in kind else {**schema, "type": [*kind, "null"]}
    return {"anyOf": [schema, {"type": "null"}]}


def _branch_property(document: dict[str, Any], branch: Any, name: str) -> Any:
    """The schema a union branch gives its property `name` (None if it has none)."""
    resolved = follow_refs(document, branch)
    properties = resolved.get("properties") if isinstance(resolved, dict) else None
    return follow_refs(document, (properties or {}).get(name))


JSON_TYPES = {str: "string", bool: "boolean", int: "integer", float: "number", dict: "object"}


def _json_types(document: dict[str, Any], schema: Any) -> set[str]:
    """The JSON types `schema` admits, when it says so (`type`, `const`, `enum`); else empty."""
    schema = follow_refs(document, schema)
    if not isinstance(schema, dict):
        return set()
    kind = schema.get("type")
    if isinstance(kind, str):
        return {kind}
    if isinstance(kind, list):
        return {k for k in kind if isinstance(k, str)}
    values = [schema["const"]] if "const" in schema else schema.get("enum")
    if isinstance(values, list) and values:
        return {JSON_TYPES.get(type(v), "null" if v is None else "array") for v in values}
    return set()


def _objects(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for key, value in node.items():
            if not key.startswith("x-lenz-"):
                yield from _objects(value)
    elif isinstance(node, list):
        for value in node:
            yield from _objects(value)


def _operations(document: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for item in (document.get("paths") or {}).values():
        for method in ("get", "put", "post", "delete", "patch", "head", "options", "trace"):
            if isinstance(item.get(method), dict):
                yield item[method]


def _parameters(document: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield from ((document.get("components") or {}).get("parameters") or {}).values()
    for item in (document.get("paths") or {}).values():
        for parameter in item.get("parameters") or []:
            if isinstance(parameter, dict) and "$ref" not in parameter:
                yield parameter
        for operation in _operations({"paths": {"": item}}):
            for parameter in operation.get("parameters") or []:
                if isinstance(parameter, dict) and "$ref" not in parameter:
                    yield parameter


def _subschemas(schema: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for key in ONE_SCHEMA:
        if isinstance(schema.get(key), dict):
            yield schema[key]
    for key in SCHEMA_LISTS:
        for sub in schema.get(key) or []:
            if isinstance(sub, dict):
                yield sub
    for key in SCHEMA_MAPS:
        for sub in (schema.get(key) or {}).values():
            if isinstance(sub, dict):
                yield sub


def _schema_tree(schema: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield schema
    for sub in _subschemas(schema):
        yield from _schema_tree(sub)


def _all_schemas(document: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every schema object of the document (components and inline, not examples)."""
    roots: list[dict[str, Any]] = list(
        ((document.get("components") or {}).get("schemas") or {}).values()
    )
    for node in _objects(document):
        if isinstance(node.get("schema"), dict):
            roots.append(node["schema"])
    seen: set[int] = set()
    for root in roots:
        for schema in _schema_tree(root):
            if id(schema) not in seen:
                seen.add(id(schema))
                yield schema


def _reachable(document: dict[str, Any], root: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every schema object reachable from `root`, following `$ref`s (each once)."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        schema = stack.pop()
        if id(schema) in seen:
            continue
        seen.add(id(schema))
        yield schema
        if isinstance(schema.get("$ref"), str):
            target = follow_refs(document, {"$ref": schema["$ref"]})
            if isinstance(target, dict):
                stack.append(target)
        stack.extend(_subschemas(schema))
