"""Auth: every operation refuses a request without the bearer token, or with a garbage one, 401.

Writes are aimed at a workflow this run created (so a deployment that ignores auth changes only
the run's own data), and execute at an id that cannot exist unless execution is allowed.
"""

from __future__ import annotations

from collections.abc import Callable

from ..client import NO_TOKEN, LenzClient, Reply
from ..context import Profile
from ..session import garbage_token
from . import CheckRun, lenz_check

BEARER = "#/components/securitySchemes/bearerAuth"
ALL = (
    "listWorkflows",
    "createWorkflow",
    "getWorkflow",
    "updateWorkflow",
    "deleteWorkflow",
    "executeWorkflow",
    "listWorkflowLogs",
)
Call = Callable[[LenzClient, str], Reply]


def _calls(run: CheckRun) -> list[tuple[str, Call]]:
    """One call per operation this run may send, with the given token."""
    if run.read_only:
        listed = run.client.list_workflows(limit=1)
        items = listed.data if isinstance(listed.data, list) else []
        target = items[0].get("id") if items and isinstance(items[0], dict) else None
        some_id = target if isinstance(target, str) else run.ctx.absent_id
        return [
            ("listWorkflows", lambda c, t: c.list_workflows(token=t)),
            ("getWorkflow", lambda c, t: c.get(some_id, token=t)),
            ("listWorkflowLogs", lambda c, t: c.logs(some_id, token=t)),
        ]
    _, data = run.create(run.unique("auth"))
    own = data["id"]
    body = run.workflow_body(run.unique("auth-update"))
    runnable = own if run.ctx.execute_allowed else run.ctx.absent_id
    return [
        ("listWorkflows", lambda c, t: c.list_workflows(token=t)),
        (
            "createWorkflow",
            lambda c, t: c.create(run.workflow_body(run.unique("auth-create")), token=t),
        ),
        ("getWorkflow", lambda c, t: c.get(own, token=t)),
        ("updateWorkflow", lambda c, t: c.update(own, body, token=t)),
        ("executeWorkflow", lambda c, t: c.execute(runnable, token=t)),
        ("listWorkflowLogs", lambda c, t: c.logs(own, token=t)),
        ("deleteWorkflow", lambda c, t: c.delete(own, token=t)),
    ]


def _refused_everywhere(run: CheckRun, token: str, what: str) -> None:
    only = set(run.ctx.operations())
    for operation, call in _calls(run):
        if operation not in only:
            continue
        reply = call(run.client, token)
        if reply.status != 401:
            run.fail(
                operation,
                f"a request {what} answered {reply.status}",
                expected="401 with the error envelope",
                reply=reply,
            )


@lenz_check(
    family="auth",
    profile=Profile.DOCS,
    rule="every operation refuses a request without the bearer token (401)",
    operations=ALL,
    pointer=BEARER,
    read_only=True,
)
def auth_missing_token(run: CheckRun) -> None:
    _refused_everywhere(run, NO_TOKEN, "without an Authorization header")


@lenz_check(
    family="auth",
    profile=Profile.DOCS,
    rule="every operation refuses a garbage bearer token (401)",
    operations=ALL,
    pointer=BEARER,
    read_only=True,
)
def auth_garbage_token(run: CheckRun) -> None:
    _refused_everywhere(run, garbage_token(run.ctx), "with a garbage bearer token")
