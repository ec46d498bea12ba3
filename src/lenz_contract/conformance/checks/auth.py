"""Auth: every operation refuses a request without the bearer token, or with a garbage one.

The docs say every endpoint needs the token, not how a refusal looks: a JWT middleware answers
in its own words (`{"message": "invalid or expired jwt"}`), and echo-jwt answers a missing
header with 400 ("missing or malformed jwt"). So the docs profile accepts 400, 401 or 403 for a
missing token and 401 or 403 for a garbage one, with any body; the strict profile wants 401 with
the error envelope. Writes are aimed at a workflow this run created (so a deployment that
ignores auth changes only the run's own data), and execute at an id that cannot exist unless
execution is allowed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..client import NO_TOKEN, LenzClient, Reply
from ..session import garbage_token
from .registry import ALL, DOCS, STRICT, lenz_check
from .run import CheckRun

BEARER = "#/components/securitySchemes/bearerAuth"
UNAUTHORIZED = "#/components/responses/Unauthorized"
MISSING_STATUSES = (400, 401, 403)
GARBAGE_STATUSES = (401, 403)
Call = Callable[[LenzClient, str], Reply]


@dataclass(frozen=True)
class Refusals:
    """Every operation of the run asked once without a token and once with a garbage one."""

    missing: tuple[Reply, ...]
    garbage: tuple[Reply, ...]


def refusals(run: CheckRun) -> Refusals:
    def build(run: CheckRun) -> Refusals:
        only = set(run.ctx.operations())
        calls = [(op, call) for op, call in _calls(run) if op in only]
        missing = tuple(call(run.client, NO_TOKEN) for _, call in calls)
        garbage = tuple(call(run.client, garbage_token(run.ctx)) for _, call in calls)
        return Refusals(missing, garbage)

    return run.shared("auth", build)


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


def _judge(run: CheckRun, replies: tuple[Reply, ...], allowed: tuple[int, ...], what: str) -> None:
    for reply in replies:
        if reply.status not in allowed:
            run.fail(
                reply.operation,
                f"a request {what} was not refused: it answered {reply.status}",
                expected=" or ".join(map(str, allowed)),
                reply=reply,
            )


@lenz_check(DOCS, ALL, pointer=BEARER, read_only=True)
def auth_missing_token(run: CheckRun) -> None:
    """every operation refuses a request without the bearer token (400, 401 or 403)"""
    _judge(run, refusals(run).missing, MISSING_STATUSES, "without an Authorization header")


@lenz_check(DOCS, ALL, pointer=BEARER, read_only=True)
def auth_garbage_token(run: CheckRun) -> None:
    """every operation refuses a garbage bearer token (401 or 403)"""
    _judge(run, refusals(run).garbage, GARBAGE_STATUSES, "with a garbage bearer token")


@lenz_check(STRICT, ALL, pointer=UNAUTHORIZED, read_only=True)
def auth_refusal_401(run: CheckRun) -> None:
    """a missing or garbage token is refused with 401 and the error envelope"""
    found = refusals(run)
    for reply in (*found.missing, *found.garbage):
        if reply.status != 401 or not reply.is_error_envelope():
            run.fail(
                reply.operation,
                f"a token refusal answered {reply.status} {reply.exchange.body_excerpt(80)}",
                expected="401 with {ok: false, message}",
                reply=reply,
            )
            return
