"""Find the operation for a request from the spec's own paths (no route is written by hand).

Static paths are a dict lookup; templated ones a regex each. A path parameter may be empty
here (`/api/workflows//logs`), so the parameter's schema refuses it with a located 400, as
openapi-core does, instead of the request falling through to a 404.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ..spec import Operation


def _template_regex(path: str) -> re.Pattern[str]:
    pattern = re.sub(r"\\\{([A-Za-z_][A-Za-z0-9_]*)\\\}", r"(?P<\1>[^/]*)", re.escape(path))
    return re.compile(f"^{pattern}$")


class SpecRouter:
    """`match(method, path)` → the operation, its path parameters, the methods the path allows."""

    def __init__(self, operations: Iterable[Operation]) -> None:
        self._static: dict[str, dict[str, Operation]] = {}
        templated: dict[str, dict[str, Operation]] = {}
        for op in operations:
            table = templated if "{" in op.path else self._static
            table.setdefault(op.path, {})[op.method] = op
        self._templated = [(_template_regex(path), ops) for path, ops in templated.items()]

    def match(self, method: str, path: str) -> tuple[Operation | None, dict[str, str], list[str]]:
        ops = self._static.get(path)
        params: dict[str, str] = {}
        if ops is None:
            for regex, candidates in self._templated:
                found = regex.match(path)
                if found is not None:
                    ops, params = candidates, found.groupdict()
                    break
            else:
                return None, {}, []
        op = ops.get(method)
        return op, params, list(ops)
