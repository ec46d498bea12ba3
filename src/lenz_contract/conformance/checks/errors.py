"""Errors: unknown ids and bad input are refused with the error envelope, never with a 5xx.

The docs profile asserts only what the docs make wrong: an unknown id is refused with a 4xx and
`{ok: false, message}` (the logs of one may also answer an empty page), and so is a body that is
not JSON, not a JSON object, or gives a documented field a value of another JSON type (`null`
aside). The strict profile adds our decisions: 404 for an unknown id; 400 for a bad page or
limit, a missing or empty name, `null`, an unknown key, an invalid cron; 405 with `Allow` for a
method the path does not have. Unknown ids are an id this run made up and no one has; bad
bodies that a server wrongly accepts are created under the run's name (the guard sees to it)
and deleted at the end.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ...spec import Source
from ..client import LenzClient, Reply
from .crud import empty_page, refused
from .registry import DOCS, ON_AN_ID, STRICT, lenz_check
from .run import CheckRun

NOT_FOUND = "#/components/responses/NotFound"
BAD_REQUEST = "#/components/responses/BadRequest"
ERROR = "#/components/schemas/ErrorEnvelope"


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


@lenz_check(DOCS, ON_AN_ID, pointer=ERROR, needs=(), read_only=True)
def unknown_id_refused(run: CheckRun) -> None:
    """an unknown workflow id is refused with a 4xx and the error envelope (its logs may answer an
    empty page)"""
    for reply in _unknown_id_replies(run):
        if refused(reply) or (reply.operation == "listWorkflowLogs" and empty_page(reply)):
            continue
        run.fail(
            reply.operation,
            f"an unknown workflow id was not refused: it answered {reply.status}",
            expected="4xx with {ok: false, message}"
            + (", or an empty page" if reply.operation == "listWorkflowLogs" else ""),
            reply=reply,
        )


@lenz_check(STRICT, ON_AN_ID, pointer=NOT_FOUND, needs=(), read_only=True)
def unknown_id_404(run: CheckRun) -> None:
    """an unknown workflow id answers 404"""
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
    documented: bool  # wrong by what the docs state (the docs profile asserts these)


def _bad_inputs(run: CheckRun) -> list[BadInput]:
    def build(run: CheckRun) -> list[BadInput]:
        c: LenzClient = run.client
        cases: list[tuple[str, str, bool, Callable[[], Reply]]] = [
            ("limit=0", LIST, False, lambda: c.list_workflows(limit=0)),
            ("limit=abc", LIST, False, lambda: c.list_workflows(limit="abc")),
            ("page=0", LIST, False, lambda: c.list_workflows(page=0)),
        ]
        if not run.read_only:
            good = run.workflow_body(run.unique("bad-input"))
            no_name = {k: v for k, v in good.items() if k != "name"}
            broken = b'{"name": "lenz-contract-broken",'
            cases += [
                ("malformed JSON body", CREATE, True, lambda: c.create(None, raw=broken)),
                ("a JSON array body", CREATE, True, lambda: c.create([good])),
                ("name not a string (5)", CREATE, True, lambda: c.create({**good, "name": 5})),
                ("nodes not an array", CREATE, True, lambda: c.create({**good, "nodes": "x"})),
                (
                    "is_active not a boolean",
                    CREATE,
                    True,
                    lambda: c.create({**good, "is_active": "no"}),
                ),
                ("body without name", CREATE, False, lambda: c.create(no_name)),
                ("empty name", CREATE, False, lambda: c.create({**good, "name": ""})),
                (
                    "trigger_node null",
                    CREATE,
                    False,
                    lambda: c.create({**good, "trigger_node": None}),
                ),
                ("an unknown key", CREATE, False, lambda: c.create({**good, "colour": "red"})),
            ]
            if UPDATE in run.ctx.operations():
                _, data = run.create(run.unique("bad-update"))
                own = data["id"]
                cases += [
                    ("malformed JSON update", UPDATE, True, lambda: c.update(own, None, raw=b"{")),
                    (
                        "update with name not a string",
                        UPDATE,
                        True,
                        lambda: c.update(own, {**good, "name": 7}),
                    ),
                    ("update without name", UPDATE, False, lambda: c.update(own, no_name)),
                ]
        only = set(run.ctx.operations())
        return [
            BadInput(label, call(), documented)
            for label, operation, documented, call in cases
            if operation in only
        ]

    return run.shared("errors.bad-input", build)


LIST, CREATE, UPDATE = "listWorkflows", "createWorkflow", "updateWorkflow"


@lenz_check(DOCS, (CREATE, UPDATE), pointer="{createWorkflow}/requestBody", read_only=True)
def bad_input_refused(run: CheckRun) -> None:
    """a body the docs make wrong (not JSON, not an object, a documented field of another JSON
    type) is refused with a 4xx and the error envelope"""
    for case in _bad_inputs(run):
        if case.documented and not refused(case.reply):
            run.fail(
                case.reply.operation,
                f"{case.label} was not refused: it answered {case.reply.status}",
                expected="4xx with {ok: false, message}",
                reply=case.reply,
            )


@lenz_check(STRICT, (LIST, CREATE, UPDATE), pointer=BAD_REQUEST, read_only=True)
def bad_input_400(run: CheckRun) -> None:
    """bad input (a body the contract refuses, a bad page or limit) is refused with 400"""
    for case in _bad_inputs(run):
        if case.reply.status != 400:
            run.fail(
                case.reply.operation,
                f"{case.label}: answered {case.reply.status}",
                expected="400 with the error envelope",
                reply=case.reply,
            )


@lenz_check(STRICT, (CREATE,), pointer="#/components/schemas/CronExpression/pattern")
def cron_validated(run: CheckRun) -> None:
    """an invalid cron (not six fields, seconds first) is refused with 400"""
    for cron in ("0 7 * * *", "every day at seven", "0 0 25 * * *"):
        body = run.workflow_body(
            run.unique("bad-cron"), trigger_node={"type": "schedule", "config": {"cron": cron}}
        )
        reply = run.client.create(body)
        if reply.status != 400:
            run.fail(
                CREATE,
                f"a schedule with cron {cron!r} answered {reply.status}",
                expected="400 with the error envelope",
                reply=reply,
            )


@lenz_check(
    STRICT,
    ("getWorkflow", "listWorkflowLogs"),
    source=Source.INFERRED,
    reason="docs/contract-decisions.md: the mock answers 405 with Allow (RFC 9110); a "
    "deployment may answer 404, or offer more methods",
)
def wrong_method_405(run: CheckRun) -> None:
    """a method the path does not have answers 405 with an Allow header"""
    _, data = run.create(run.unique("method"))
    own = data["id"]
    body = run.workflow_body(str(data.get("name")))
    tries = [
        ("getWorkflow", "PATCH", run.client.path_of("getWorkflow", own), body),
        ("listWorkflowLogs", "DELETE", run.client.path_of("listWorkflowLogs", own), None),
    ]
    for operation, method, path, sent in tries:
        reply = run.client.call(operation, method, path, body=sent)
        allowed = [m.strip() for m in (reply.headers.get("allow") or "").split(",") if m.strip()]
        if reply.status != 405 or not allowed:
            run.fail(
                operation,
                f"{method} {path} answered {reply.status}"
                + (f" with Allow: {', '.join(allowed)}" if allowed else " without an Allow header"),
                expected="405 with Allow naming the methods the path has",
                reply=reply,
            )
