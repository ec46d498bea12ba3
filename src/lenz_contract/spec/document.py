"""Reading a spec document and following its local `$ref`s."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .errors import SpecError, SpecProblem

JSON = Any


def read_document(path: Path) -> dict[str, Any]:
    """Parse a YAML or JSON spec file; any failure becomes a located `SpecError`."""
    document = read_yaml_file(path)
    if not isinstance(document, dict):
        raise SpecError([SpecProblem("$", "the document is not a mapping (an OpenAPI object)")])
    return document


def read_yaml_file(path: Path, *, error: type[SpecError] = SpecError, what: str = "file") -> JSON:
    """What a YAML (or JSON) file holds; a file that is missing, unreadable or not YAML raises
    `error` located at the file (with line and column for a syntax error).

    Every document the toolkit reads (a spec, an overlay) fails the same way, in the same words;
    `error` lets a caller keep its own type (`OverlayError`) and `what` its noun ("no such
    overlay file").
    """
    import yaml  # ~7 ms, only once a file is read (the mock's warm start uses `mock.spec_cache`)

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error([SpecProblem(str(path), f"no such {what}")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise error([SpecProblem(str(path), f"cannot be read: {exc}")]) from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        problem = getattr(exc, "problem", None) or str(exc)
        raise error([SpecProblem(where, f"not valid YAML: {problem}")]) from None


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


def follow_refs(document: JSON, node: JSON, *, limit: int = 32) -> JSON:
    """What a node stands for after at most `limit` steps of its `$ref` chain (still a `$ref`
    object when the chain is longer: a cycle). For readers that tolerate a broken document."""
    for _ in range(limit):
        if not (isinstance(node, dict) and isinstance(node.get("$ref"), str)):
            return node
        node = resolve_pointer(document, node["$ref"])
    return node


def deref(document: JSON, node: JSON, *, limit: int = 32) -> JSON:
    """Follow `$ref` chains on a non-schema object (parameter, response, example, link)."""
    node = follow_refs(document, node, limit=limit)
    if isinstance(node, dict) and isinstance(node.get("$ref"), str):
        raise KeyError("reference chain too long (a cycle?)")
    return node


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
