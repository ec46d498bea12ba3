"""Everything the mock derives from one spec file, built once and swapped whole on reload.

Per operation: its request validator, the body schema's defaults (applied by the handlers,
not the validator), the status and message of its success answer (the first 2xx the spec
lists, so create answers 201), the limit cap (`x-lenz-limit-cap`) and compiled response
validators for the self-check. Nothing here names an endpoint or a schema;
the handlers only name the operationIds whose behaviour they implement.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import yaml

from ..spec import SHIPPED_SPEC_PATH, Operation, SchemaValidator, Spec, View
from ..spec.requests import RequestValidator
from ..spec.routing import Router

ERROR_ENVELOPE = "#/components/schemas/ErrorEnvelope"
LIMIT_CAP_EXTENSION = "x-lenz-limit-cap"


@dataclass
class OperationPlan:
    operation: Operation
    requests: RequestValidator
    success_status: int
    message: str
    limit_cap: int | None
    response_checks: dict[str, SchemaValidator | None] = field(default_factory=dict)
    body_defaults: dict[str, Any] = field(default_factory=dict)
    """The body schema's defaults. `requests` leaves them out of the validated body, so a handler
    sees what the client sent (a PUT must tell a left-out `is_active` from a sent one)."""

    def response_check(self, status: int) -> tuple[bool, SchemaValidator | None]:
        """`(documented, validator)` for an answer with `status` (self-check)."""
        response = self.operation.response_for(status)
        if response is None:
            return False, None
        return True, self.response_checks.get(response.status)


def load_spec_fast(path: Path | str | None = None) -> Spec:
    """`Spec.load` with libyaml's C parser when present (startup must stay under a second).

    Any problem falls back to `Spec.load`, which raises the located `SpecError`.
    """
    source = Path(path) if path is not None else SHIPPED_SPEC_PATH
    loader = getattr(yaml, "CSafeLoader", None)
    if loader is not None:
        try:
            document = yaml.load(source.read_text(encoding="utf-8"), Loader=loader)
        except Exception:
            document = None
        if isinstance(document, dict):
            return Spec(document, path=source)
    return Spec.load(source)


class SpecRuntime:
    """The compiled form of one spec: router, plans, and the files the docs page serves."""

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self.router: Router = spec.router  # the spec's one router (Spec.match, the proxy)
        self.plans = {op_id: self._plan(op) for op_id, op in spec.operations.items()}
        self.error_check = spec.validator(ERROR_ENVELOPE, view=View.STRICT)
        self.openapi_json = orjson.dumps(spec.document)
        source: Path | None = spec.path
        self.openapi_yaml = source.read_bytes() if source is not None else b""
        self.mtime = source.stat().st_mtime if source is not None else 0.0

    @classmethod
    def load(cls, path: Path | str | None = None) -> SpecRuntime:
        return cls(load_spec_fast(path))

    def _plan(self, op: Operation) -> OperationPlan:
        statuses = [s for s in op.responses if s.isdigit() and s.startswith("2")]
        success = statuses[0] if statuses else "200"
        response = op.responses.get(success)
        cap: Any = None
        for param in op.query_parameters():
            cap = param.extensions.get(LIMIT_CAP_EXTENSION, cap)
        checks = {
            status: (
                self.spec.validator(r.schema_pointer, view=View.STRICT)
                if r.schema_pointer
                else None
            )
            for status, r in op.responses.items()
        }
        requests = RequestValidator(self.spec, op)
        body_defaults, requests.body_defaults = requests.body_defaults, {}
        return OperationPlan(
            operation=op,
            requests=requests,
            success_status=int(success),
            message=(response.message if response and response.message else "success"),
            limit_cap=cap if isinstance(cap, int) else None,
            response_checks=checks,
            body_defaults=body_defaults,
        )
