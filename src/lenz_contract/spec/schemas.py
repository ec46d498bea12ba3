"""Validators compiled once from the spec's own schemas (jsonschema-rs), with readable errors.

openapi-core is the reference validator (see `reference.py`), but it costs milliseconds per
call; these compiled validators answer in microseconds and a differential test keeps the two in
agreement.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

import jsonschema_rs

from .errors import FieldError

DIALECT = "https://json-schema.org/draft/2020-12/schema"
MAX_ERRORS = 20


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


class SchemaValidator:
    """One compiled schema; `errors()` returns located, readable reasons."""

    def __init__(self, compiled: Any, document: dict[str, Any], pointer: str) -> None:
        self._compiled = compiled
        self._document = document
        self.pointer = pointer

    @property
    def compiled(self) -> Any:
        """The jsonschema-rs validator itself, for callers that read its errors' schema paths."""
        return self._compiled

    def is_valid(self, instance: Any) -> bool:
        return bool(self._compiled.is_valid(instance))

    def errors(self, instance: Any, prefix: str = "body") -> list[FieldError]:
        if self._compiled.is_valid(instance):
            return []
        seen: set[tuple[str, str]] = set()
        out: list[FieldError] = []
        for error in self._compiled.iter_errors(instance):
            found = FieldError(format_path(prefix, error.instance_path), self._reason(error))
            key = (found.path, found.reason)
            if key not in seen:
                seen.add(key)
                out.append(found)
            if len(out) >= MAX_ERRORS:
                break
        return out

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


def _named_schema(schema_path: list[Any]) -> str | None:
    for index in range(len(schema_path) - 2, -1, -1):
        if schema_path[index] == "schemas":
            return str(schema_path[index + 1])
    return None


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
