"""Execution: a manual run finishes, its node results follow the pipeline, it is logged as
manual, and the workflow's logs page through its runs.

Executing runs a workflow's actions for real, so these checks need `--allow-execute` (or a
target that says it is the mock); the workflows executed are this run's own (three export
nodes). The docs show a finished run in the execute answer, but a deployment may answer a run
still in progress: then the run is looked up in the logs, polled for at most
`--execution-timeout` seconds, before its node results are judged. A deployment may refuse to
execute an inactive workflow: the run then uses an active one whose schedule can never fire
(30 February), and if that is refused too the checks say they were skipped, and why.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

from ...spec import Source
from ..client import Reply
from .crud import instant
from .registry import DOCS, EXECUTES, JSON_CONTENT, STRICT, lenz_check
from .run import CheckRun, as_json, items_of

EXECUTE, LOGS = "executeWorkflow", "listWorkflowLogs"
EXECUTION = "#/components/schemas/Execution"
LOGS_MEDIA = f"{{listWorkflowLogs}}/responses/200/{JSON_CONTENT}"
RUNNING = frozenset({"running", "pending", "queued", "in_progress", "started", "created"})
SCHEDULER = "scheduler"
LOG_PAGE = 2
RUNS = 3


def finished(run: Any) -> bool:
    """A run that says it is over: `finished_at` set (not before `started_at`), not running."""
    if not isinstance(run, dict):
        return False
    done, started = instant(run.get("finished_at")), instant(run.get("started_at"))
    status = run.get("status")
    still = isinstance(status, str) and status.lower() in RUNNING
    return done is not None and (started is None or done >= started) and not still


@dataclass
class Runnable:
    """A workflow of this run the target agrees to execute, and how it got there."""

    workflow_id: str
    node_ids: list[str]
    refused_inactive: Reply | None  # the refusal of the inactive workflow, if there was one


@dataclass
class Executed:
    """One manual run: the execute answer and, once over, the run as it finished."""

    runnable: Runnable
    answer: Reply
    run_id: str | None
    final: dict[str, Any] | None  # the finished run (the answer's, or the logs')
    final_reply: Reply | None  # where `final` was read
    polled: list[Reply] = field(default_factory=list)


def runnable(run: CheckRun, label: str) -> tuple[Runnable, Reply]:
    """A workflow of this run, executed once: inactive if the target allows it, else dormant."""
    if not run.ctx.execute_allowed:
        run.skip("execution is not allowed: pass --allow-execute (the mock is detected by itself)")
    _, data = run.create(run.unique(label))
    node_ids = [n["id"] for n in run.workflow_body("x")["nodes"]]
    answer = run.client.execute(data["id"])
    if answer.ok or not _refusal(answer):
        return Runnable(data["id"], node_ids, None), answer
    _, dormant = run.create_dormant(run.unique(f"{label}-active"))
    second = run.client.execute(dormant["id"])
    if not second.ok and _refusal(second):
        run.skip(
            "the target refused to execute this run's workflows: inactive "
            f"({answer.status} {_message(answer)}), and active with a schedule that never "
            f"fires ({second.status} {_message(second)})"
        )
    return Runnable(dormant["id"], node_ids, answer), second


def _refusal(reply: Reply) -> bool:
    return 400 <= reply.status < 500 and reply.status not in (401, 403, 404, 429)


def _message(reply: Reply) -> str:
    message = reply.field("message")
    return repr(message) if isinstance(message, str) else reply.exchange.body_excerpt(80)


def follow(run: CheckRun, target: Runnable, answer: Reply) -> Executed:
    """The run `answer` started, followed until it is over (in the logs, bounded)."""
    data = answer.data if isinstance(answer.data, dict) else {}
    run_id = data.get("id") if isinstance(data.get("id"), str) else None
    result = Executed(target, answer, run_id, None, None)
    if not answer.ok:
        return result
    if finished(data):
        result.final, result.final_reply = data, answer
        return result
    deadline = time.monotonic() + run.ctx.options.execution_timeout
    pause = 0.2
    while run_id is not None:
        logs = run.client.logs(target.workflow_id, limit=100)
        result.polled.append(logs)
        logged = next((i for i in items_of(logs) if i.get("id") == run_id), None)
        if finished(logged):
            result.final, result.final_reply = logged, logs
            break
        if time.monotonic() + pause > deadline:
            break
        time.sleep(pause)
        pause = min(pause * 2, 2.0)
    return result


def executed(run: CheckRun) -> Executed:
    def build(run: CheckRun) -> Executed:
        target, answer = runnable(run, "execute")
        return follow(run, target, answer)

    return run.shared("execution", build)


def _require_started(run: CheckRun, it: Executed) -> dict[str, Any]:
    data: dict[str, Any] = run.require_data(it.answer, "executing a workflow")
    return data


# -- docs --------------------------------------------------------------------------------------


@lenz_check(DOCS, (EXECUTE,), pointer=EXECUTION, needs=EXECUTES)
def execution_completes(run: CheckRun) -> None:
    """a manual run finishes: execute answers it finished, or the logs show it finished (polled for
    --execution-timeout seconds)"""
    it = executed(run)
    data = _require_started(run, it)
    if it.final is not None:
        return
    if it.run_id is None:
        run.fail(
            EXECUTE,
            "execute answered a run that is not finished and has no id to look it up by",
            expected="a finished run, or one with an id that the logs show finished",
            reply=it.answer,
        )
        return
    last = it.polled[-1] if it.polled else None
    logged = next((i for i in items_of(last) if i.get("id") == it.run_id), None) if last else None
    seen = "is not in the logs" if logged is None else f"is still {logged.get('status')!r}"
    run.fail(
        LOGS,
        f"execution {it.run_id!r} was not finished after "
        f"{run.ctx.options.execution_timeout:g}s: it {seen}",
        expected="the run finished (finished_at set, status not running) in the execute answer "
        "or in the logs",
        actual=f"execute answered status {data.get('status')!r}, finished_at "
        f"{as_json(data.get('finished_at'))}; the logs were read {len(it.polled)} times",
        reply=last or it.answer,
        steps=[it.answer],
    )


@lenz_check(DOCS, (EXECUTE,), pointer=f"{EXECUTION}/properties/node_results", needs=EXECUTES)
def execution_node_order(run: CheckRun) -> None:
    """node_results of a finished run follow the workflow's nodes, in pipeline order"""
    it = executed(run)
    _require_started(run, it)
    if it.final is None or it.final_reply is None:
        run.skip("the run never finished (execution_completes reports it)")
    got = [r.get("node_id") for r in it.final.get("node_results") or [] if isinstance(r, dict)]
    expected = it.runnable.node_ids
    if not got or got != expected[: len(got)]:
        run.fail(
            EXECUTE if it.final_reply is it.answer else LOGS,
            "the node results of the finished run do not follow the pipeline order",
            expected=f"node_id order {expected} (or a leading part of it)",
            actual=f"node_id order {got}",
            reply=it.final_reply,
        )


@lenz_check(DOCS, (LOGS,), pointer="{listWorkflowLogs}", needs=EXECUTES)
def execution_in_logs(run: CheckRun) -> None:
    """a manual run appears in its workflow's logs, for that workflow"""
    it = executed(run)
    _require_started(run, it)
    logs = it.polled[-1] if it.polled else run.client.logs(it.runnable.workflow_id, limit=100)
    listed = [i for i in items_of(logs) if it.run_id is not None and i.get("id") == it.run_id]
    if not listed:
        run.fail(
            LOGS,
            f"execution {it.run_id!r} is not in the workflow's logs",
            expected=f"data holds execution {it.run_id!r}",
            reply=logs,
            steps=[it.answer],
        )
    elif listed[0].get("workflow_id") != it.runnable.workflow_id:
        run.fail(
            LOGS,
            f"the logged execution names workflow {as_json(listed[0].get('workflow_id'))}",
            expected=f"workflow_id {as_json(it.runnable.workflow_id)}",
            reply=logs,
        )


@lenz_check(DOCS, (EXECUTE,), pointer=f"{EXECUTION}/properties/triggered_by", needs=EXECUTES)
def execution_manual_trigger(run: CheckRun) -> None:
    """a manual run is reported as manual and by its caller: trigger_type `manual`, triggered_by a
    user, never `scheduler`"""
    it = executed(run)
    data = _require_started(run, it)
    for where, shown, reply in (
        ("execute answer", data, it.answer),
        ("logs", it.final, it.final_reply),
    ):
        if shown is None or reply is None:
            continue
        trigger, by = shown.get("trigger_type"), shown.get("triggered_by")
        if trigger != "manual" or not isinstance(by, str) or not by or by == SCHEDULER:
            run.fail(
                EXECUTE,
                f"a manual run is reported with trigger_type {as_json(trigger)} and triggered_by "
                f"{as_json(by)} in the {where}",
                expected='trigger_type "manual", triggered_by the caller (not "scheduler")',
                reply=reply,
            )
            return


@lenz_check(DOCS, (LOGS,), pointer="#/components/schemas/Pagination", needs=EXECUTES)
def logs_pagination(run: CheckRun) -> None:
    """the logs page through a workflow's runs: total_data counts them, total_page is
    ceil(total_data / limit), current_page echoes the page, each run on one page"""
    runs = logged_runs(run)
    limit_of = runs.first.field("limit")
    limit = limit_of if isinstance(limit_of, int) and 1 <= limit_of <= LOG_PAGE else LOG_PAGE
    pages = [runs.first] + [
        run.client.logs(runs.workflow_id, page=n, limit=LOG_PAGE)
        for n in range(2, math.ceil(len(runs.ids) / limit) + 1)
    ]
    seen: dict[str, int] = {}
    for number, reply in enumerate(pages, start=1):
        total, total_page = reply.field("total_data"), reply.field("total_page")
        expected_page = math.ceil(len(runs.ids) / limit)
        problem = ""
        if total != len(runs.ids):
            problem = (
                f"total_data is {as_json(total)} for the {len(runs.ids)} runs of this workflow"
            )
        elif total_page != expected_page:
            problem = f"total_page is {as_json(total_page)} for {total} runs and limit {limit}"
        elif reply.field("current_page") != number:
            problem = (
                f"asked for page {number}, current_page is {as_json(reply.field('current_page'))}"
            )
        elif len(items_of(reply)) != min(limit, len(runs.ids) - (number - 1) * limit):
            problem = f"page {number} with limit {limit} holds {len(items_of(reply))} runs"
        for item in items_of(reply):
            item_id = item.get("id")
            if isinstance(item_id, str) and item_id in seen and not problem:
                problem = f"run {item_id!r} is on page {seen[item_id]} and again on page {number}"
            if isinstance(item_id, str):
                seen.setdefault(item_id, number)
        if problem:
            run.fail(
                LOGS,
                problem,
                expected=f"{len(runs.ids)} runs, limit {limit}: total_page {expected_page}, "
                "each run on one page",
                reply=reply,
                steps=list(pages[: number - 1]),
            )
            return
    missing = sorted(set(runs.ids) - set(seen))
    if missing:
        run.fail(
            LOGS,
            f"walking the logs did not yield every run of the workflow: missing {missing}",
            expected=f"runs {sorted(runs.ids)}",
            actual=f"runs {sorted(seen)}",
            reply=pages[-1],
        )


@lenz_check(DOCS, (LOGS,), pointer="{listWorkflowLogs}", needs=EXECUTES)
def logs_belong_to_workflow(run: CheckRun) -> None:
    """the logs of a workflow list its own runs only"""
    runs = logged_runs(run)
    reply = run.client.logs(runs.workflow_id, limit=100)
    foreign = [
        i.get("id")
        for i in items_of(reply)
        if i.get("workflow_id") != runs.workflow_id or i.get("id") in runs.other_ids
    ]
    if foreign:
        run.fail(
            LOGS,
            f"the logs of {runs.workflow_id!r} list runs of other workflows: {foreign}",
            expected=f"only runs with workflow_id {runs.workflow_id!r}",
            reply=reply,
        )


@dataclass(frozen=True)
class LoggedRuns:
    workflow_id: str
    ids: list[str]  # its runs, as execute answered them
    other_ids: list[str]  # runs of another workflow of this run
    first: Reply  # logs page 1 (limit LOG_PAGE)


def logged_runs(run: CheckRun) -> LoggedRuns:
    def build(run: CheckRun) -> LoggedRuns:
        target, answer = runnable(run, "logs")
        ids = [_run_id(run, answer)]
        ids += [_run_id(run, run.client.execute(target.workflow_id)) for _ in range(RUNS - 1)]
        _, other_answer = runnable(run, "logs-other")
        other = [_run_id(run, other_answer)]
        first = run.client.logs(target.workflow_id, page=1, limit=LOG_PAGE)
        return LoggedRuns(target.workflow_id, ids, other, first)

    return run.shared("execution.logs", build)


def _run_id(run: CheckRun, reply: Reply) -> str:
    data = run.require_data(reply, "executing a workflow")
    if not isinstance(data.get("id"), str):
        run.abort(EXECUTE, "execute answered a run without an id", reply=reply)
    return str(data["id"])


# -- strict --------------------------------------------------------------------------------------


@lenz_check(STRICT, (EXECUTE,), pointer="{executeWorkflow}/x-lenz-execute", needs=EXECUTES)
def execution_finished(run: CheckRun) -> None:
    """execute answers when the run has finished (finished_at set, status not running)"""
    it = executed(run)
    data = _require_started(run, it)
    if not finished(data):
        run.fail(
            EXECUTE,
            f"execute answered a run that is not finished: status {as_json(data.get('status'))}, "
            f"finished_at {as_json(data.get('finished_at'))}",
            expected="a finished run: finished_at set (not before started_at), status not running",
            reply=it.answer,
        )


@lenz_check(
    STRICT,
    (EXECUTE,),
    source=Source.INFERRED,
    reason="docs/contract-decisions.md: a manual run does not depend on the schedule; the mock "
    "executes inactive workflows (a deployment may refuse)",
    needs=EXECUTES,
)
def execution_inactive_allowed(run: CheckRun) -> None:
    """an inactive workflow can be executed manually"""
    it = executed(run)
    refusal = it.runnable.refused_inactive
    if refusal is not None:
        run.fail(
            EXECUTE,
            f"executing an inactive workflow was refused with {refusal.status}",
            expected="2xx: the run of the inactive workflow",
            reply=refusal,
        )


@lenz_check(STRICT, (LOGS,), pointer=f"{LOGS_MEDIA}/x-lenz-order", needs=EXECUTES)
def execution_logs_newest_first(run: CheckRun) -> None:
    """logs list the newest execution first"""
    runs = logged_runs(run)
    reply = run.client.logs(runs.workflow_id, limit=100)
    ours = [i.get("id") for i in items_of(reply) if i.get("id") in runs.ids]
    if ours != list(reversed(runs.ids)):
        run.fail(
            LOGS,
            "the runs are not listed newest first",
            expected=f"order {list(reversed(runs.ids))}",
            actual=f"order {ours}",
            reply=reply,
        )
