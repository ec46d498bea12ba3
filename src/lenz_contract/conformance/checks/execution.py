"""Execution: execute answers a finished run whose node results follow the pipeline, and the
run shows up in the workflow's logs.

Executing runs a workflow's actions for real, so these checks need `--allow-execute` (or a target
that says it is the mock); the workflow executed is one this run created (three export nodes).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..client import Reply
from ..context import Profile
from . import CheckRun, items_of, lenz_check
from .crud import instant

EXECUTE, LOGS = "executeWorkflow", "listWorkflowLogs"
RUNNING = frozenset({"running", "pending", "queued", "in_progress", "started"})


@dataclass(frozen=True)
class Executed:
    workflow_id: str
    node_ids: list[str]
    execution: Reply
    logs: Reply


def executed(run: CheckRun) -> Executed:
    def build(run: CheckRun) -> Executed:
        _, data = run.create(run.unique("execute"))
        node_ids = [n["id"] for n in run.workflow_body("x")["nodes"]]
        execution = run.client.execute(data["id"])
        return Executed(data["id"], node_ids, execution, run.client.logs(data["id"], limit=100))

    if not run.ctx.execute_allowed:
        run.skip("execution is not allowed: pass --allow-execute (the mock is detected by itself)")
    return run.shared("execution", build)


@lenz_check(
    family="execution",
    profile=Profile.DOCS,
    rule="execute answers when the run has finished (finished_at set, status not running)",
    operations=(EXECUTE,),
    pointer="#/paths/~1api~1workflows~1{id}~1execute/post",
    needs=("write", "execute"),
)
def execution_finished(run: CheckRun) -> None:
    it = executed(run)
    data = run.require_data(it.execution, "executing a workflow")
    finished, started = instant(data.get("finished_at")), instant(data.get("started_at"))
    status = data.get("status")
    if finished is None or (started is not None and finished < started) or status in RUNNING:
        run.fail(
            EXECUTE,
            f"execute answered status {status!r}, finished_at {data.get('finished_at')!r}",
            expected="a finished run: finished_at set (not before started_at), status not running",
            reply=it.execution,
        )


@lenz_check(
    family="execution",
    profile=Profile.DOCS,
    rule="node_results follow the workflow's nodes, in pipeline order",
    operations=(EXECUTE,),
    pointer="#/components/schemas/Execution/properties/node_results",
    needs=("write", "execute"),
)
def execution_node_order(run: CheckRun) -> None:
    it = executed(run)
    data = run.require_data(it.execution, "executing a workflow")
    got = [r.get("node_id") for r in data.get("node_results") or [] if isinstance(r, dict)]
    if got != it.node_ids[: len(got)] or (not got and it.node_ids):
        run.fail(
            EXECUTE,
            "node_results do not follow the pipeline order",
            expected=f"node_id order {it.node_ids}",
            actual=f"node_id order {got}",
            reply=it.execution,
        )


@lenz_check(
    family="execution",
    profile=Profile.DOCS,
    rule="the execution appears in the workflow's logs with its node results",
    operations=(LOGS,),
    pointer="#/paths/~1api~1workflows~1{id}~1logs/get",
    needs=("write", "execute"),
)
def execution_in_logs(run: CheckRun) -> None:
    it = executed(run)
    data = run.require_data(it.execution, "executing a workflow")
    listed = [i for i in items_of(it.logs) if i.get("id") == data.get("id")]
    if not listed:
        run.fail(
            LOGS,
            f"execution {data.get('id')!r} is not in the workflow's logs",
            expected=f"data holds execution {data.get('id')!r}",
            reply=it.logs,
            steps=[it.execution],
        )
        return
    logged = [r.get("node_id") for r in listed[0].get("node_results") or [] if isinstance(r, dict)]
    answered = [r.get("node_id") for r in data.get("node_results") or [] if isinstance(r, dict)]
    if logged != answered:
        run.fail(
            LOGS,
            "the logged execution does not carry the node results execute answered",
            expected=f"node_results {answered}",
            actual=f"node_results {logged}",
            reply=it.logs,
        )


@lenz_check(
    family="execution",
    profile=Profile.STRICT,
    rule="logs list the newest execution first",
    operations=(LOGS,),
    pointer="#/paths/~1api~1workflows~1{id}~1logs/get/responses/200",
    needs=("write", "execute"),
)
def execution_logs_newest_first(run: CheckRun) -> None:
    it = executed(run)
    first = run.require_data(it.execution, "executing a workflow")
    second = run.require_data(run.client.execute(it.workflow_id), "executing a workflow again")
    logs = run.client.logs(it.workflow_id, limit=100)
    order = [i.get("id") for i in items_of(logs)]
    if first.get("id") in order and second.get("id") in order:
        if order.index(second["id"]) > order.index(first["id"]):
            run.fail(
                LOGS,
                "the older execution is listed before the newer one",
                expected=f"{second['id']!r} before {first['id']!r}",
                actual=f"order {order}",
                reply=logs,
            )
    else:
        run.skip("the executions are not both in the logs (execution_in_logs reports it)")
