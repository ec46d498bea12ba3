"""Errors: unknown ids and bad input are refused with the error envelope, never with a 5xx.

The docs profile accepts any 4xx with `{ok: false, message}`; the strict profile wants 404 for an
unknown id and 400 for bad input, including an invalid cron. Unknown ids are an id this run made
up and no one has; bad bodies that a server wrongly accepts are created under the run's name
(the guard sees to it) and deleted at the end.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..client import LenzClient, Reply
from ..context import Profile
from . import CheckRun, lenz_check

NOT_FOUND = "#/components/responses/NotFound"
BAD_REQUEST = "#/components/responses/BadRequest"
ERROR = "#/components/schemas/ErrorEnvelope"
BY_ID = ("getWorkflow", "updateWorkflow", "deleteWorkflow", "executeWorkflow", "listWorkflowLogs")
"""The operations that take a workflow id in their path."""


def _unknown_id_replies(run: CheckRun) -> list[Reply]:
    def build(run: CheckRun) -> list[Reply]:
        absent = run.ctx.absent_id
        client = run.client
        calls: list[Callable[[], Reply]] = [lambda: client.get(absent), lambda: client.logs(absent)]
        if not run.read_only:
            body = run.workflow_body(run.unique("unknown"))
            calls += [
                lambda: client.update(absent, body),
                lambda: client.execute(absent),  # no workflow has this id: nothing can run
                lambda: client.delete(absent),
            ]
        only = set(run.ctx.operations())
        return [reply for reply in (call() for call in calls) if reply.operation in only]

    return run.shared("errors.unknown", build)


@lenz_check(
    family="errors",
    profile=Profile.DOCS,
    rule="an unknown workflow id is refused with a 4xx and the error envelope",
    operations=BY_ID,
    pointer=ERROR,
    needs=(),
    read_only=True,
)
def unknown_id_refused(run: CheckRun) -> None:
    for reply in _unknown_id_replies(run):
        if not (400 <= reply.status < 500 and reply.is_error_envelope()):
            run.fail(
                reply.operation,
                f"an unknown id answered {reply.status}",
                expected="4xx with {ok: false, message}",
                reply=reply,
            )


@lenz_check(
    family="errors",
    profile=Profile.STRICT,
    rule="an unknown workflow id answers 404",
    operations=BY_ID,
    pointer=NOT_FOUND,
    needs=(),
    read_only=True,
)
def unknown_id_404(run: CheckRun) -> None:
    for reply in _unknown_id_replies(run):
        if reply.status != 404:
            run.fail(
                reply.operation,
                f"an unknown id answered {reply.status}",
                expected="404",
                reply=reply,
            )


@dataclass(frozen=True)
class BadInput:
    label: str
    reply: Reply


def _bad_inputs(run: CheckRun) -> list[BadInput]:
    def build(run: CheckRun) -> list[BadInput]:
        c: LenzClient = run.client
        cases: list[tuple[str, Callable[[], Reply]]] = [
            ("limit=0", lambda: c.list_workflows(limit=0)),
            ("limit=abc", lambda: c.list_workflows(limit="abc")),
            ("page=0", lambda: c.list_workflows(page=0)),
        ]
        if not run.read_only:
            good = run.workflow_body(run.unique("bad-input"))
            no_name = {k: v for k, v in good.items() if k != "name"}
            cases += [
                (
                    "malformed JSON body",
                    lambda: c.create(None, raw=b'{"name": "lenz-contract-broken",'),
                ),
                ("body without name", lambda: c.create(no_name)),
                ("is_active not a boolean", lambda: c.create({**good, "is_active": "no"})),
                ("nodes not an array", lambda: c.create({**good, "nodes": {"id": "x"}})),
                ("trigger_node null", lambda: c.create({**good, "trigger_node": None})),
            ]
            if "updateWorkflow" in run.ctx.operations():
                _, data = run.create(run.unique("bad-update"))
                own = data["id"]
                cases += [
                    ("malformed JSON update", lambda: c.update(own, None, raw=b"{")),
                    ("update without name", lambda: c.update(own, no_name)),
                ]
        only = set(run.ctx.operations())
        return [BadInput(label, call()) for label, call in cases if _operation_of(label) in only]

    return run.shared("errors.bad-input", build)


def _operation_of(label: str) -> str:
    if label.startswith(("limit", "page")):
        return "listWorkflows"
    return "updateWorkflow" if "update" in label else "createWorkflow"


@lenz_check(
    family="errors",
    profile=Profile.DOCS,
    rule="bad input (malformed JSON, a body the schema refuses, a bad page or limit) is refused "
    "with a 4xx and the error envelope",
    operations=("listWorkflows", "createWorkflow", "updateWorkflow"),
    pointer=ERROR,
    read_only=True,
)
def bad_input_refused(run: CheckRun) -> None:
    for case in _bad_inputs(run):
        reply = case.reply
        if not (400 <= reply.status < 500 and reply.is_error_envelope()):
            run.fail(
                reply.operation,
                f"{case.label}: answered {reply.status}",
                expected="4xx with {ok: false, message}",
                reply=reply,
            )


@lenz_check(
    family="errors",
    profile=Profile.STRICT,
    rule="bad input is refused with 400",
    operations=("listWorkflows", "createWorkflow", "updateWorkflow"),
    pointer=BAD_REQUEST,
    read_only=True,
)
def bad_input_400(run: CheckRun) -> None:
    for case in _bad_inputs(run):
        if case.reply.status != 400:
            run.fail(
                case.reply.operation,
                f"{case.label}: answered {case.reply.status}",
                expected="400",
                reply=case.reply,
            )


@lenz_check(
    family="errors",
    profile=Profile.STRICT,
    rule="an invalid cron (not six fields, seconds first) is refused with 400",
    operations=("createWorkflow",),
    pointer=BAD_REQUEST,
)
def cron_validated(run: CheckRun) -> None:
    for cron in ("0 7 * * *", "every day at seven", "0 0 25 * * *"):
        body = run.workflow_body(
            run.unique("bad-cron"), trigger_node={"type": "schedule", "config": {"cron": cron}}
        )
        reply = run.client.create(body)
        if reply.status != 400:
            run.fail(
                "createWorkflow",
                f"a schedule with cron {cron!r} answered {reply.status}",
                expected="400 with the error envelope",
                reply=reply,
            )
