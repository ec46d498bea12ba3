"""The one path matcher: which operation a `METHOD /path` is, built from the spec's own paths.

`Spec.match`, the mock's dispatcher, the proxy's checker and (through `Spec.match`) the
conformance suite all route with this `Router`, so they can never disagree on which operation
a request is, or on what its path parameters are. No route is written by hand.

Decisions, made once here for everyone:
- The path is the percent-decoded path (ASGI's `path`): `%2F` in an id is a `/`, so
  `/api/workflows/a%2Fb` is `/api/workflows/a/b`, which no template matches.
- A path parameter may be empty: `/api/workflows//logs` is `listWorkflowLogs` with `id == ""`
  and `/api/workflows/` is `/api/workflows/{id}` with `id == ""`. The parameter's schema then
  refuses it (`minLength`), a located 400 `path.id` instead of a 404 that says nothing; this is
  also what openapi-core does.
- A parameter never spans a `/`. A static path wins over a template (OpenAPI's rule); templates
  are tried in document order.

It is on the mock's hot path: a static path is one dict lookup and a prebuilt answer; a templated
one is one compiled regex per template (the spec has three).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, NamedTuple, TypeAlias

if TYPE_CHECKING:
    from .model import Operation

_PARAMETER = re.compile(r"\{([^{}/]+)\}")
_NO_PARAMS: Mapping[str, str] = MappingProxyType({})


class Match(NamedTuple):
    """Where a request lands.

    `operation` is None when the path is not in the spec (`template` None too: a 404) or when it
    is but not with this method (`template` and `allowed` say which path and methods: a 405).
    `params` are the path parameters' raw (decoded, unchecked) strings when a template matched.
    """

    operation: Operation | None
    params: Mapping[str, str]
    template: str | None
    allowed: tuple[str, ...]


NO_MATCH = Match(None, _NO_PARAMS, None, ())


def template_regex(template: str) -> tuple[re.Pattern[str], tuple[str, ...]]:
    """`/api/workflows/{id}/logs` → a regex with one group per parameter, and their names.

    Each parameter is `[^/]*`: any one segment, the empty one included (see the module). The
    groups are named after the parameters when every name can be a group name (`groupdict` is
    twice as fast as pairing names with groups), else positional.
    """
    names = tuple(found.group(1) for found in _PARAMETER.finditer(template))
    named = len(set(names)) == len(names) and all(name.isidentifier() for name in names)
    pattern, last = "", 0
    for found in _PARAMETER.finditer(template):
        group = f"(?P<{found.group(1)}>[^/]*)" if named else "([^/]*)"
        pattern += re.escape(template[last : found.start()]) + group
        last = found.end()
    pattern += re.escape(template[last:])
    return re.compile(pattern + r"\Z"), names


_Template: TypeAlias = (
    "tuple[re.Pattern[str], tuple[str, ...] | None, str, dict[str, Operation], tuple[str, ...]]"
)
"""regex, names when its groups are positional, template, operations by method, methods."""


class Router:
    """`match(method, path)` → `Match`; see the module for the rules."""

    def __init__(self, operations: Iterable[Operation]) -> None:
        by_path: dict[str, dict[str, Operation]] = {}
        for op in operations:
            by_path.setdefault(op.path, {})[op.method] = op
        self._static: dict[str, tuple[dict[str, Match], Match]] = {}
        self._templates: list[_Template] = []
        for path, ops in by_path.items():
            allowed = tuple(ops)
            if _PARAMETER.search(path) is None:
                found = {method: Match(op, _NO_PARAMS, path, allowed) for method, op in ops.items()}
                self._static[path] = (found, Match(None, _NO_PARAMS, path, allowed))
            else:
                regex, names = template_regex(path)
                positional = None if regex.groupindex else names
                self._templates.append((regex, positional, path, ops, allowed))

    def match(self, method: str, path: str) -> Match:
        """Where `method path` lands (`method` in any case: `GET` is looked up first)."""
        static = self._static.get(path)
        if static is not None:
            found = static[0]
            return found.get(method) or found.get(method.upper()) or static[1]
        for regex, positional, template, ops, allowed in self._templates:
            hit = regex.match(path)
            if hit is not None:
                params = (
                    hit.groupdict()
                    if positional is None
                    else dict(zip(positional, hit.groups(), strict=True))
                )
                op = ops.get(method) or ops.get(method.upper())
                # A NamedTuple's own `__new__` costs twice this (hot path: every request).
                return tuple.__new__(Match, (op, params, template, allowed))
        return NO_MATCH
