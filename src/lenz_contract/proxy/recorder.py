"""`--record DIR`: turn what the deployment answered into a fixtures folder the mock can load.

The folder's format is `spec/fixtures.py` (shared with the mock). What is kept, and why:
- only answers the fast engine found conforming: the folder must load (`load_fixtures`
  validates everything), and the mock should not learn a deployment's bugs;
- workflows: the latest state of each id seen in any 2xx answer whose `data` (or `data[]`)
  is a Workflow; an id whose delete succeeded, or that answered 404, is removed with its
  executions. Executions: every Execution seen (execute, logs), kept only while their
  workflow is known (the mock refuses orphans);
- credentials: the folder's own, plus a stub for every `credential_id` a recorded workflow
  uses, so the mock can run it (the secret itself is never seen, nor invented);
- examples: the latest answer per operation, status and slug (the path's ids and the query),
  at most `MAX_EXAMPLES_PER_OPERATION` names per operation.
Everything goes through the redactor first. What is a workflow id is read from the spec (a path
parameter whose schema is `WorkflowId`), not from the operation names.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..spec import Operation, Spec
from ..spec.document import resolve_pointer
from ..spec.fixtures import (
    EXECUTION_SCHEMA,
    WORKFLOW_SCHEMA,
    FixtureSet,
    RecordedExample,
    example_name,
    load_fixtures,
    save_fixtures,
    slugify,
)
from .exchange import Exchange
from .redact import Redactor

WORKFLOW_ID_SCHEMA = "#/components/schemas/WorkflowId"
MAX_EXAMPLES_PER_OPERATION = 200
STUB_TYPES = {"telegram_send_attachment": "telegram"}


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Recorder:
    """Accumulates a `FixtureSet` from exchanges (on the event loop) and saves it in a thread."""

    def __init__(self, directory: Path, spec: Spec, redactor: Redactor) -> None:
        self.directory = directory
        self.spec = spec
        self.redactor = redactor
        existing = (
            load_fixtures(directory, spec)
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
        self._is_workflow = spec.validator(WORKFLOW_SCHEMA).is_valid
        self._is_execution = spec.validator(EXECUTION_SCHEMA).is_valid
        self._id_params = {
            op.operation_id: self._workflow_id_param(op) for op in spec.operations.values()
        }
        self.recorded = 0
        self.skipped_nonconforming = 0
        self.dropped_examples = 0
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
        safe = self.redactor.json(body)
        if 200 <= status < 300 and isinstance(safe, dict) and "data" in safe:
            items = safe["data"] if isinstance(safe["data"], list) else [safe["data"]]
            for item in items:
                if self._is_workflow(item):
                    self._workflows[item["id"]] = item
                    self._dirty = True
                elif self._is_execution(item):
                    self._executions[item["id"]] = item
                    self._dirty = True
        self._example(op, exchange, path_params, status, safe)

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
        if not self.spec.validator(response.schema_pointer).is_valid(body):
            return  # redaction made it invalid: not loadable, so not saved
        words = [*path_params.values()]
        words += [f"{k}-{v}" for k, v in sorted(self.redactor.query(exchange.query))]
        name = example_name(status, slugify(" ".join(words)))
        names = self._examples.setdefault(op.operation_id, {})
        if name not in names and len(names) >= MAX_EXAMPLES_PER_OPERATION:
            self.dropped_examples += 1
            return
        names[name] = RecordedExample(status, body, "recorded", now_iso())
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
            "saves": self.saves,
            "last_error": self.last_error,
        }
