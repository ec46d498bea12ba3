"""`--record DIR`: turn what the deployment answered into a fixtures folder the mock can load.

The folder's format is `spec/fixtures.py` (shared with the mock). The recorder keeps only what
the mock will load: each item and example passes the loader's own checks (`FixtureChecks`) in
the view the mock loads (`SERVED_VIEW`), or is refused with its reason and place in `stats()`
(the proxy's report, `recording.refusals`). What is kept, and why:
- only answers the fast engine found conforming: the mock should not learn a deployment's bugs;
- timestamps as the mock writes them: an answer's `Timestamp` fields with an offset
  (`2025-06-01T14:00:00.123456789+07:00`) are kept as the same instant in UTC with `Z`, every
  fraction digit kept, since the mock serves the strict view, which asks for `Z`;
- a run still in progress (`status: running`, `finished_at: null`) is refused: the mock's runs
  are finished (`success`, `failed`), and a run frozen as running would never end. The same run
  seen finished later (in the workflow's logs) is kept. `description: null` is kept as it is:
  every view of the contract admits it;
- workflows: the latest state of each id seen in any 2xx answer whose `data` (or `data[]`)
  is a Workflow; an id whose delete succeeded, or that answered 404, is removed with its
  executions. Executions: every Execution seen (execute, logs), kept only while their
  workflow is known (the mock refuses orphans);
- credentials: the folder's own, plus a stub for every `credential_id` a recorded workflow
  uses, so the mock can run it (the secret itself is never seen, nor invented);
- examples: the latest answer per operation, status and slug (the path's ids and the query),
  at most `MAX_EXAMPLES_PER_OPERATION` names per operation.
Everything goes through the redactor first. What is a workflow id is read from the spec (a path
parameter whose schema is `WorkflowId`), not from the operation names; what is a timestamp, too.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..spec import FieldError, Operation, Spec
from ..spec.document import resolve_pointer
from ..spec.fixtures import (
    EXECUTION_SCHEMA,
    RECORDED,
    SERVED_VIEW,
    TIMESTAMP_SCHEMA,
    WORKFLOW_SCHEMA,
    FixtureChecks,
    FixtureSet,
    RecordedExample,
    example_name,
    load_fixtures,
    save_fixtures,
    slugify,
)
from ..spec.timestamps import RFC3339, parse_rfc3339
from .exchange import Exchange
from .redact import Redactor

WORKFLOW_ID_SCHEMA = "#/components/schemas/WorkflowId"
MAX_EXAMPLES_PER_OPERATION = 200
MAX_REFUSALS = 50
"""The report lists the latest distinct refusals (the count covers them all)."""
MAX_SCHEMA_DEPTH = 64
STUB_TYPES = {"telegram_send_attachment": "telegram"}


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def utc_timestamp(text: str) -> str:
    """`2025-06-01T14:00:00.123456789+07:00` → `2025-06-01T07:00:00.123456789Z`: the same
    instant as the mock writes it. Offsets are whole minutes, so the fraction is kept digit for
    digit; what is not an RFC 3339 timestamp is returned as it is."""
    found, when = RFC3339.match(text), parse_rfc3339(text)
    if found is None or when is None:
        return text
    try:
        utc = when.astimezone(UTC)
    except OverflowError:  # year 1 with a positive offset: left for the checks to refuse
        return text
    fraction = f".{found['fraction']}" if found["fraction"] else ""
    return f"{utc.replace(microsecond=0, tzinfo=None).isoformat()}{fraction}Z"


class UtcTimestamps:
    """Rewrites the values an answer's schema types as a `Timestamp` to UTC (`utc_timestamp`).

    Only those: a timestamp inside a node's free-form `output` is the deployment's data.
    """

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document

    def body(self, pointer: str, value: Any) -> Any:
        return self._walk({"$ref": pointer}, value, 0)

    def _walk(self, schema: Any, value: Any, depth: int) -> Any:
        if not isinstance(schema, dict) or depth > MAX_SCHEMA_DEPTH:
            return value
        ref = schema.get("$ref")
        if ref == TIMESTAMP_SCHEMA:
            return utc_timestamp(value) if isinstance(value, str) else value
        if isinstance(ref, str):
            value = self._walk(resolve_pointer(self.document, ref), value, depth + 1)
        for key in ("allOf", "anyOf", "oneOf"):
            for branch in schema.get(key) or []:
                value = self._walk(branch, value, depth + 1)
        return self._children(schema, value, depth)

    def _children(self, schema: dict[str, Any], value: Any, depth: int) -> Any:
        properties = schema.get("properties")
        if isinstance(value, dict) and isinstance(properties, dict):
            return {
                key: self._walk(properties[key], item, depth + 1) if key in properties else item
                for key, item in value.items()
            }
        if isinstance(value, list) and isinstance(schema.get("items"), dict):
            return [self._walk(schema["items"], item, depth + 1) for item in value]
        return value


@dataclass(frozen=True)
class Refusal:
    """Something a deployment answered that the recording leaves out: where, what and why."""

    operation: str
    item: str
    reason: str


class Recorder:
    """Accumulates a `FixtureSet` from exchanges (on the event loop) and saves it in a thread."""

    def __init__(self, directory: Path, spec: Spec, redactor: Redactor) -> None:
        self.directory = directory
        self.spec = spec
        self.redactor = redactor
        self.checks = FixtureChecks(spec, SERVED_VIEW)
        existing = (
            load_fixtures(directory, spec, view=SERVED_VIEW)
            if directory.is_dir() and any(directory.iterdir())
            else FixtureSet()
        )
        self._workflows = {w["id"]: w for w in existing.workflows}
        self._executions = {e["id"]: e for e in existing.executions}
        self._credentials = list(existing.credentials)
        self._examples = {op: dict(names) for op, names in existing.examples.items()}
        self._changed: set[tuple[str, str]] = set()
        self._dirty = False
        self._lock = asyncio.Lock()
        self._is_workflow = spec.validator(WORKFLOW_SCHEMA).is_valid  # what an answer holds
        self._is_execution = spec.validator(EXECUTION_SCHEMA).is_valid
        self._utc = UtcTimestamps(spec.document)
        self._id_params = {
            op.operation_id: self._workflow_id_param(op) for op in spec.operations.values()
        }
        self.recorded = 0
        self.skipped_nonconforming = 0
        self.dropped_examples = 0
        self.refused = 0
        self._refusals: list[Refusal] = []
        self.saves = 0
        self.last_error: str | None = None

    def _workflow_id_param(self, op: Operation) -> str | None:
        for param in op.parameters:
            if param.location != "path":
                continue
            raw = resolve_pointer(self.spec.document, param.schema_pointer)
            if isinstance(raw, dict) and raw.get("$ref") == WORKFLOW_ID_SCHEMA:
                return param.name
        return None

    # -- observing (event loop) ----------------------------------------------------------------
    def observe(
        self,
        exchange: Exchange,
        op: Operation,
        path_params: dict[str, str],
        body: Any,
        conforming: bool,
    ) -> None:
        if not conforming:
            self.skipped_nonconforming += 1
            return
        self.recorded += 1
        status = exchange.status
        id_param = self._id_params.get(op.operation_id)
        workflow_id = path_params.get(id_param) if id_param else None
        if workflow_id is not None and (
            status == 404 or (exchange.method == "DELETE" and 200 <= status < 300)
        ):
            self._forget(workflow_id)
        safe = self._as_served(op, status, self.redactor.json(body))
        if 200 <= status < 300 and isinstance(safe, dict) and "data" in safe:
            items = safe["data"] if isinstance(safe["data"], list) else [safe["data"]]
            for item in items:
                self._keep(op, item)
        self._example(op, exchange, path_params, status, safe)

    def _as_served(self, op: Operation, status: int, body: Any) -> Any:
        """The body with its timestamps as the mock writes them (UTC, `Z`)."""
        response = op.response_for(status)
        if response is None or response.schema_pointer is None:
            return body
        return self._utc.body(response.schema_pointer, body)

    def _keep(self, op: Operation, item: Any) -> None:
        """Keep a workflow or an execution of an answer, if the mock can serve it."""
        if self._is_workflow(item):
            kind, kept = "workflows", self._workflows
        elif self._is_execution(item):
            kind, kept = "executions", self._executions
        else:
            return
        errors = self.checks.seed_item(kind, item)
        if errors:
            self._refuse(op, f"{kind[:-1]} {item['id']!r}", errors)
            return
        kept[item["id"]] = item
        self._dirty = True

    def _refuse(self, op: Operation, item: str, errors: list[FieldError]) -> None:
        self.refused += 1
        details = "; ".join(str(e) for e in errors[:3])
        reason = f"the mock could not serve it ({self.checks.view} view): {details}"
        refusal = Refusal(op.operation_id, item, reason)
        if refusal in self._refusals:
            self._refusals.remove(refusal)
        self._refusals.append(refusal)
        del self._refusals[:-MAX_REFUSALS]

    def _forget(self, workflow_id: str) -> None:
        if self._workflows.pop(workflow_id, None) is not None:
            self._dirty = True
        for key in [k for k, e in self._executions.items() if e.get("workflow_id") == workflow_id]:
            del self._executions[key]
            self._dirty = True

    def _example(
        self, op: Operation, exchange: Exchange, path_params: dict[str, str], status: int, body: Any
    ) -> None:
        response = op.response_for(status)
        if response is None or response.schema_pointer is None:
            return
        words = [*path_params.values()]
        words += [f"{k}-{v}" for k, v in sorted(self.redactor.query(exchange.query))]
        name = example_name(status, slugify(" ".join(words)))
        example = RecordedExample(status, body, RECORDED, now_iso())
        errors = self.checks.example(op.operation_id, status, example.to_json())
        if errors:  # e.g. a run still in progress, or a body redaction made invalid
            self._refuse(op, f"example {name}", errors)
            return
        names = self._examples.setdefault(op.operation_id, {})
        if name not in names and len(names) >= MAX_EXAMPLES_PER_OPERATION:
            self.dropped_examples += 1
            return
        names[name] = example
        self._changed.add((op.operation_id, name))
        self._dirty = True

    # -- saving --------------------------------------------------------------------------------
    def snapshot(self) -> FixtureSet:
        workflows = list(self._workflows.values())
        known = set(self._workflows)
        executions = [e for e in self._executions.values() if e.get("workflow_id") in known]
        credentials = list(self._credentials)
        have = {c.get("id") for c in credentials}
        for workflow in workflows:
            for node in workflow.get("nodes") or []:
                config = node.get("config") if isinstance(node, dict) else None
                cred = config.get("credential_id") if isinstance(config, dict) else None
                if isinstance(cred, str) and cred and cred not in have:
                    have.add(cred)
                    credentials.append(
                        {
                            "id": cred,
                            "type": STUB_TYPES.get(str(node.get("type")), "unknown"),
                            "name": "recorded reference (the secret is not recorded)",
                        }
                    )
        examples = {op: dict(names) for op, names in self._examples.items()}
        return FixtureSet(workflows, executions, credentials, examples)

    @property
    def dirty(self) -> bool:
        return self._dirty

    async def save(self) -> None:
        """Write what changed since the last save (seed files whole, changed examples only)."""
        async with self._lock:
            if not self._dirty:
                return
            snapshot, changed = self.snapshot(), self._changed
            self._changed, self._dirty = set(), False
            try:
                await asyncio.to_thread(
                    save_fixtures, self.directory, snapshot, only_examples=changed
                )
            except BaseException:
                self._changed |= changed
                self._dirty = True
                raise
            self.saves += 1

    async def run(self, interval: float) -> None:
        """Save every `interval` seconds while there is something new (a background task)."""
        while True:
            await asyncio.sleep(interval)
            try:
                await self.save()
            except OSError as exc:  # keep recording in memory; the next save may succeed
                self.last_error = f"{type(exc).__name__}: {exc}"

    def stats(self) -> dict[str, Any]:
        return {
            "dir": str(self.directory),
            "recorded": self.recorded,
            "skipped_nonconforming": self.skipped_nonconforming,
            "workflows": len(self._workflows),
            "executions": len(self._executions),
            "examples": sum(len(v) for v in self._examples.values()),
            "dropped_examples": self.dropped_examples,
            "refused": self.refused,
            "refusals": [asdict(r) for r in self._refusals],
            "saves": self.saves,
            "last_error": self.last_error,
        }
