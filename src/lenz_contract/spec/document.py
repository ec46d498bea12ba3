"""Reading a spec document and following its local `$ref`s."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .errors import SpecError, SpecProblem

JSON = Any


def read_document(path: Path) -> dict[str, Any]:
    """Parse a YAML or JSON spec file; any failure becomes a located `SpecError`."""
    import yaml  # ~7 ms: the mock's warm start reads its spec from `mock.spec_cache` instead

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError([SpecProblem(str(path), "no such file")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError([SpecProblem(str(path), f"cannot be read: {exc}")]) from None
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        problem = getattr(exc, "problem", None) or str(exc)
        raise SpecError([SpecProblem(where, f"not valid YAML: {problem}")]) from None
    if not isinstance(document, dict):
        raise SpecError([SpecProblem("$", "the document is not a mapping (an OpenAPI object)")])
    return document


def json_path(parts: list[str | int] | tuple[str | int, ...]) -> str:
    """`["paths", "/api/x", "get"]` → `$.paths['/api/x'].get` (readable, unambiguous)."""
    out = "$"
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part.isidentifier():
            out += f".{part}"
        else:
            out += f"[{part!r}]"
    return out


def pointer_parts(ref: str) -> list[str]:
    """Split a local JSON pointer (`#/components/schemas/X`) into unescaped parts."""
    if not ref.startswith("#/"):
        raise ValueError(f"only local references are supported, got {ref!r}")
    return [p.replace("~1", "/").replace("~0", "~") for p in ref[2:].split("/")]


def resolve_pointer(document: JSON, ref: str) -> JSON:
    """The node a local `$ref` points at; `KeyError` names the missing part."""
    node = document
    for part in pointer_parts(ref):
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            raise KeyError(part)
    return node


def deref(document: JSON, node: JSON, *, limit: int = 32) -> JSON:
    """Follow `$ref` chains on a non-schema object (parameter, response, example, link)."""
    for _ in range(limit):
        if not (isinstance(node, dict) and isinstance(node.get("$ref"), str)):
            return node
        node = resolve_pointer(document, node["$ref"])
    raise KeyError("reference chain too long (a cycle?)")


def iter_refs(
    node: JSON, parts: tuple[str | int, ...] = ()
) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """Every `$ref` string in the document, with where it stands."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            yield (*parts, "$ref"), ref
        for key, value in node.items():
            if key != "$ref":
                yield from iter_refs(value, (*parts, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from iter_refs(value, (*parts, index))
