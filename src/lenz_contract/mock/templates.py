"""`{{prev.body.<path>}}` templates in node config, resolved against the previous node's output.

The docs show templates only as whole values (`"{{prev.body.file_url}}"`) and inside text
(`"Laporan FR harian — {{prev.body.date}}"`). A whole-value template keeps the referenced value's
JSON type, so a node can pass a list or a number on; inside text a value is interpolated as its
JSON text (strings bare), the way a JSON-minded template engine would. Anything that cannot be
resolved is an error naming the config key, never a silent empty string: a mock that quietly
sends an empty caption would hide the client's bug.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping
from typing import Any

TEMPLATE = re.compile(r"\{\{([^{}]*)\}\}")  # no braces inside: `{{a}} x {{b}}` is two templates
ROOT = ("prev", "body")


class TemplateError(ValueError):
    """A template that cannot be resolved; `str()` names the config key, the template and why."""

    def __init__(self, key_path: str, template: str, reason: str) -> None:
        self.key_path = key_path
        self.template = template
        self.reason = reason
        super().__init__(f"{key_path}: {template} cannot be resolved: {reason}")


def resolve_config(
    config: Mapping[str, Any], prev: Mapping[str, Any] | None, *, key_path: str = "config"
) -> dict[str, Any]:
    """A copy of `config` with every template resolved; `prev` is `None` for the first node."""
    return {
        key: resolve_value(value, prev, key_path=f"{key_path}.{key}")
        for key, value in config.items()
    }


def resolve_value(value: Any, prev: Mapping[str, Any] | None, *, key_path: str) -> Any:
    """Resolve templates in a config value of any shape (strings, nested dicts and lists)."""
    if isinstance(value, str):
        return _resolve_string(value, prev, key_path)
    if isinstance(value, Mapping):
        return resolve_config(value, prev, key_path=key_path)
    if isinstance(value, list):
        return [
            resolve_value(item, prev, key_path=f"{key_path}[{i}]") for i, item in enumerate(value)
        ]
    return value


def _resolve_string(text: str, prev: Mapping[str, Any] | None, key_path: str) -> Any:
    whole = TEMPLATE.fullmatch(text)
    if whole is not None:  # a copy: the resolved config must not alias the previous output
        return copy.deepcopy(_lookup(whole, prev, key_path))
    return TEMPLATE.sub(lambda found: _as_text(_lookup(found, prev, key_path)), text)


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _lookup(found: re.Match[str], prev: Mapping[str, Any] | None, key_path: str) -> Any:
    template = found.group(0)
    expression = found.group(1).strip()
    parts = expression.split(".") if expression else []
    try:
        if tuple(parts[:2]) != ROOT:
            raise _Unresolved("only {{prev.body.<path>}} templates are supported")
        if prev is None:
            raise _Unresolved("there is no previous node (this is the first node of the pipeline)")
        node: Any = prev
        for depth, part in enumerate(parts[2:]):
            node = _step(node, part, parts[2 : 2 + depth])
    except _Unresolved as exc:
        raise TemplateError(key_path, template, str(exc)) from None
    return node


class _Unresolved(Exception):
    """Why one path step failed; `_lookup` turns it into a located `TemplateError`."""


def _step(node: Any, part: str, walked: list[str]) -> Any:
    where = f"'{'.'.join(walked)}' of the previous output" if walked else "previous output"
    if part == "":
        raise _Unresolved("the path has an empty segment")
    if isinstance(node, Mapping):
        if part not in node:
            raise _Unresolved(f"{where} has no key {part!r}")
        return node[part]
    if isinstance(node, list):
        if not (part.isascii() and part.isdigit()):
            raise _Unresolved(f"{where} is a list; {part!r} is not an index")
        index = int(part)
        if index >= len(node):
            raise _Unresolved(f"{where} has {len(node)} items; index {index} is out of range")
        return node[index]
    raise _Unresolved(f"{where} is {_json_type(node)}, not an object or a list; it has no {part!r}")


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return "a string" if isinstance(value, str) else type(value).__name__
