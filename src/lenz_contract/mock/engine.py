"""Run a workflow's pipeline in simulation and answer the spec's `Execution` object.

Nodes run in order; each node's config is template-resolved against the previous node's
output, checked against the config schema the spec gives its type, then simulated. The first
failure stops the pipeline: later nodes are `skipped`, the execution `failed`. Time is
simulated from the mock clock (each node type has a fixed duration), so an execution is a pure
function of the workflow, the clock and the mock's state, and answers at once.
"""

from __future__ import annotations

import functools
import threading
import uuid
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from ..spec import SchemaValidator, Spec
from ..spec.timestamps import format_utc
from .clock import as_utc
from .nodes import NodeEnv, NodeError, config_schema_pointers, simulator_for
from .templates import TemplateError, resolve_config

TRIGGER_MANUAL = "manual"
TRIGGER_SCHEDULE = "schedule"
SCHEDULER_ACTOR = "scheduler"
"""`triggered_by` of scheduled runs, as the docs' logs show."""
FIRST_MESSAGE_ID = 42
"""The first Telegram send answers `message_id: 42`, like the docs' execution example."""


class MessageIds(Protocol):
    """Where Telegram message ids come from: `MessageCounter`, or a store-backed counter when
    several worker processes must share one sequence."""

    def take(self) -> int: ...


class MessageCounter:
    """Mock-wide Telegram message ids: thread-safe; persist `next_id` to survive restarts."""

    def __init__(self, next_id: int = FIRST_MESSAGE_ID) -> None:
        self._next = next_id
        self._lock = threading.Lock()

    @property
    def next_id(self) -> int:
        """The id the next successful send gets (the value to persist)."""
        with self._lock:
            return self._next

    def take(self) -> int:
        with self._lock:
            taken = self._next
            self._next += 1
            return taken

    def restore(self, next_id: int) -> None:
        """Continue from a persisted `next_id` (e.g. when loading a saved mock state)."""
        with self._lock:
            self._next = next_id


@functools.cache
def shipped_spec() -> Spec:
    return Spec.load()


def new_execution_id() -> str:
    """`exec-<uuid4 hex>`: unique across restarts and workers without shared state."""
    return f"exec-{uuid.uuid4().hex}"


@dataclass
class EngineContext:
    """The mock's state an execution reads and updates; one per mock, shared across threads."""

    now: Callable[[], datetime]
    credentials: Collection[str]
    messages: MessageIds = field(default_factory=MessageCounter)
    spec: Spec = field(default_factory=shipped_spec)
    new_id: Callable[[], str] = new_execution_id
    config_validators: dict[str, SchemaValidator] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # Compiled up front so that concurrent executions never race on the spec's cache.
        self.config_validators = {
            node_type: self.spec.validator(pointer)
            for node_type, pointer in config_schema_pointers(self.spec).items()
        }


def execute(
    workflow: Mapping[str, Any],
    *,
    context: EngineContext,
    trigger_type: str,
    triggered_by: str,
    started_at: datetime | None = None,
) -> dict[str, Any]:
    """Run `workflow` and return its Execution; `started_at` defaults to the clock's now.

    The scheduler passes the fire time as `started_at`, so a run fired late (after the clock
    was moved) still reads as having run at its scheduled time, and `yesterday` is relative to it.
    """
    when = started_at if started_at is not None else context.now()
    start = as_utc(when, "started_at").replace(microsecond=0)
    env = NodeEnv(now=start, credentials=context.credentials, next_message_id=context.messages.take)
    cursor = start
    prev: dict[str, Any] | None = None
    failure: str | None = None
    results: list[dict[str, Any]] = []
    for node in workflow.get("nodes") or []:
        if failure is not None:
            results.append(_node_result(node, "skipped", None, None, None, None))
            continue
        output, error, took = _run_node(node, prev, env, context)
        results.append(
            _node_result(
                node, "failed" if error else "success", cursor, cursor + took, output, error
            )
        )
        cursor += took
        if error is not None:
            failure = f"node {node.get('id')} failed: {error}"
        prev = output
    return {
        "id": context.new_id(),
        "workflow_id": workflow["id"],
        "trigger_type": trigger_type,
        "status": "failed" if failure else "success",
        "started_at": format_utc(start),
        "finished_at": format_utc(cursor),
        "node_results": results,
        "error": failure,
        "triggered_by": triggered_by,
    }


def _run_node(
    node: Mapping[str, Any], prev: dict[str, Any] | None, env: NodeEnv, context: EngineContext
) -> tuple[dict[str, Any] | None, str | None, timedelta]:
    """`(output, error, duration)`; a node refused before it runs takes no time."""
    node_type = str(node.get("type", ""))
    simulator = simulator_for(node_type)
    raw_config = node.get("config")
    try:
        config = resolve_config(raw_config if isinstance(raw_config, Mapping) else {}, prev)
    except TemplateError as exc:
        return None, str(exc), timedelta(0)
    validator = context.config_validators.get(node_type)
    problems = validator.errors(config, prefix="config") if validator is not None else []
    if problems:
        return None, "; ".join(str(problem) for problem in problems), timedelta(0)
    try:
        return simulator.run(config, env), None, simulator.duration
    except NodeError as exc:
        return None, str(exc), simulator.duration


def _node_result(
    node: Mapping[str, Any],
    status: str,
    started: datetime | None,
    finished: datetime | None,
    output: dict[str, Any] | None,
    error: str | None,
) -> dict[str, Any]:
    result: dict[str, Any] = {"node_id": node.get("id"), "node_type": node.get("type")}
    if isinstance(node.get("name"), str):
        result["node_name"] = node["name"]
    result.update(
        status=status,
        started_at=format_utc(started) if started else None,
        finished_at=format_utc(finished) if finished else None,
        output=output,
        error=error,
    )
    return result


def execute_scheduled(
    workflow: Mapping[str, Any], fire_time: datetime, *, context: EngineContext
) -> dict[str, Any]:
    """A scheduled run as the docs' logs show it: `schedule`, by `scheduler`, at its fire time."""
    return execute(
        workflow,
        context=context,
        trigger_type=TRIGGER_SCHEDULE,
        triggered_by=SCHEDULER_ACTOR,
        started_at=fire_time,
    )
