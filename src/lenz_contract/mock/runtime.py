"""Everything the mock derives from one spec file, built once and swapped whole on reload.

Per operation: its request validator, the body schema's defaults (applied by the handlers,
not the validator), the status and message of its success answer (the first 2xx the spec
lists, so create answers 201), the limit cap (`x-lenz-limit-cap`) and compiled response
validators for the self-check. Nothing here names an endpoint or a schema;
the handlers only name the operationIds whose behaviour they implement.

Start-up: the parsed document comes from `spec_cache` when this spec file was seen before, and
the validators are then compiled on first use (a few milliseconds over the first requests)
instead of all before the first answer; a spec (or code) the cache has not seen compiles them
all first, so a schema that does not compile still stops the start.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import cached_property
from pathlib import Path
from typing import Any

import orjson

from ..spec import SHIPPED_SPEC_PATH, Operation, SchemaValidator, Spec, View
from ..spec.requests import RequestValidator
from ..spec.routing import Router
from . import spec_cache

ERROR_ENVELOPE = "#/components/schemas/ErrorEnvelope"
LIMIT_CAP_EXTENSION = "x-lenz-limit-cap"


class ResponseChecks(Mapping[str, SchemaValidator | None]):
    """The compiled (strict view) validator of each documented response, by status: compiled
    on first use, one per status (None for a response without a JSON body)."""

    def __init__(self, spec: Spec, operation: Operation) -> None:
        self._spec = spec
        self._pointers = {status: r.schema_pointer for status, r in operation.responses.items()}
        self._compiled: dict[str, SchemaValidator | None] = {}

    def __getitem__(self, status: str) -> SchemaValidator | None:
        if status not in self._compiled:
            pointer = self._pointers[status]
            self._compiled[status] = (
                self._spec.validator(pointer, view=View.STRICT) if pointer else None
            )
        return self._compiled[status]

    def __iter__(self) -> Iterator[str]:
        return iter(self._pointers)

    def __len__(self) -> int:
        return len(self._pointers)


class OperationPlan:
    """What the mock needs to answer one operation; the validators are compiled on first use
    (`SpecRuntime.compile_all` compiles them all at once)."""

    def __init__(self, spec: Spec, operation: Operation) -> None:
        self.operation = operation
        self._spec = spec
        statuses = [s for s in operation.responses if s.isdigit() and s.startswith("2")]
        success = statuses[0] if statuses else "200"
        response = operation.responses.get(success)
        cap: Any = None
        for param in operation.query_parameters():
            cap = param.extensions.get(LIMIT_CAP_EXTENSION, cap)
        self.success_status = int(success)
        self.message = response.message if response and response.message else "success"
        self.limit_cap: int | None = cap if isinstance(cap, int) else None
        self.response_checks = ResponseChecks(spec, operation)

    @cached_property
    def _validator(self) -> tuple[RequestValidator, dict[str, Any]]:
        requests = RequestValidator(self._spec, self.operation)
        body_defaults, requests.body_defaults = requests.body_defaults, {}
        return requests, body_defaults

    @property
    def requests(self) -> RequestValidator:
        return self._validator[0]

    @property
    def body_defaults(self) -> dict[str, Any]:
        """The body schema's defaults. `requests` leaves them out of the validated body, so a
        handler sees what the client sent (a PUT must tell a left-out `is_active` from a sent
        one)."""
        return self._validator[1]

    def response_check(self, status: int) -> tuple[bool, SchemaValidator | None]:
        """`(documented, validator)` for an answer with `status` (self-check)."""
        response = self.operation.response_for(status)
        if response is None:
            return False, None
        return True, self.response_checks.get(response.status)

    def compile_all(self) -> None:
        _ = self.requests
        for status in self.response_checks:
            _ = self.response_checks[status]


def load_spec_fast(path: Path | str | None = None) -> Spec:
    """`Spec.load`, from the cache of parsed specs when it has this file (`spec_cache`), else
    with libyaml's C parser when present. Any problem falls back to `Spec.load`, which raises
    the located `SpecError`."""
    return _load(path)[0]


def _load(path: Path | str | None) -> tuple[Spec, bytes | None, spec_cache.CachedSpec | None]:
    source = Path(path) if path is not None else SHIPPED_SPEC_PATH
    try:
        raw = source.read_bytes()
    except OSError:
        return Spec.load(source), None, None
    cached = spec_cache.read(raw)
    if cached is not None:
        return Spec(cached.document, path=source), raw, cached
    import yaml  # only on a cache miss: ~12 ms to import

    loader = getattr(yaml, "CSafeLoader", None)
    document = None
    if loader is not None:
        try:
            document = yaml.load(raw.decode("utf-8"), Loader=loader)
        except Exception:
            document = None
    if not isinstance(document, dict):
        return Spec.load(source), None, None
    return Spec(document, path=source), raw, None


class SpecRuntime:
    """The compiled form of one spec: router, plans, and the files the docs page serves."""

    def __init__(self, spec: Spec, source: bytes | None = None) -> None:
        self.spec = spec
        self.router: Router = spec.router  # the spec's one router (Spec.match, the proxy)
        self.plans = {op_id: OperationPlan(spec, op) for op_id, op in spec.operations.items()}
        path: Path | None = spec.path
        self.openapi_yaml = source if source is not None else self._read(path)
        self.mtime = path.stat().st_mtime if path is not None else 0.0

    @staticmethod
    def _read(path: Path | None) -> bytes:
        return path.read_bytes() if path is not None else b""

    @classmethod
    def load(cls, path: Path | str | None = None, *, compile_all: bool = False) -> SpecRuntime:
        """The runtime of the spec file at `path` (the shipped one by default).

        When the cache vouches for this very file and code (`spec_cache`), the strict view is
        taken from it and each validator is compiled on first use; else, or with
        `compile_all`, the view is derived and every validator compiled now (a schema that does
        not compile raises here), and the cache learns it.
        """
        spec, raw, cached = _load(path)
        if raw is None:  # not cacheable: read by `Spec.load`
            runtime = cls(spec)
            runtime.compile_all()
            return runtime
        fingerprint = spec_cache.code_fingerprint()
        warm = cached is not None and cached.fingerprint == fingerprint and not compile_all
        if warm and cached is not None:
            known = {view.value: view for view in View}
            for name, document in cached.views.items():
                if name in known:
                    spec.adopt_view(known[name], document)
        runtime = cls(spec, raw)
        if not warm:
            runtime.compile_all()
            strict = spec.as_view(View.STRICT).document
            entry = spec_cache.CachedSpec(spec.document, fingerprint, {View.STRICT.value: strict})
            spec_cache.write(raw, entry)
        return runtime

    @cached_property
    def error_check(self) -> SchemaValidator:
        return self.spec.validator(ERROR_ENVELOPE, view=View.STRICT)

    @cached_property
    def openapi_json(self) -> bytes:
        return orjson.dumps(self.spec.document)

    def compile_all(self) -> None:
        """Compile every validator now (a schema that does not compile raises here)."""
        for plan in self.plans.values():
            plan.compile_all()
        _ = self.error_check
