"""The behaviour of each documented operation, by operationId, over the `WorkflowService`.

A handler gets a validated request (typed path and query with their defaults applied; the body
as sent, its defaults in `plan.body_defaults`) and returns `(status, body)`; statuses, messages,
defaults and the limit cap come from the operation's plan, i.e. from the spec.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .errors import one_error
from .runtime import OperationPlan
from .service import WorkflowService
from .store import Page

NOT_FOUND = 404


@dataclass
class Call:
    """One validated request to an operation."""

    plan: OperationPlan
    service: WorkflowService
    user: str
    path: dict[str, Any]
    query: dict[str, Any]
    body: Any


Answer = tuple[int, dict[str, Any]]
Handler = Callable[[Call], Answer]


def _ok(call: Call, **fields: Any) -> Answer:
    return call.plan.success_status, {"ok": True, "message": call.plan.message, **fields}


def _not_found(call: Call) -> Answer:
    return NOT_FOUND, one_error("path.id", f"no workflow has id {call.path.get('id')!r}")


def _paging(call: Call) -> tuple[int, int]:
    """`(page, limit)` with the limit capped at the spec's cap (the answer shows the cap)."""
    page = int(call.query.get("page", 1))
    limit = int(call.query.get("limit", 10))
    cap = call.plan.limit_cap
    return page, (min(limit, cap) if cap else limit)


def _page_answer(call: Call, found: Page, page: int, limit: int) -> Answer:
    return _ok(
        call,
        data=found.items,
        limit=limit,
        current_page=page,
        total_data=found.total,
        total_page=-(-found.total // limit),
    )


def list_workflows(call: Call) -> Answer:
    page, limit = _paging(call)
    found = call.service.list_workflows(str(call.query.get("search") or ""), page, limit)
    return _page_answer(call, found, page, limit)


def create_workflow(call: Call) -> Answer:
    return _ok(call, data=call.service.create_workflow(call.body, call.plan.body_defaults))


def get_workflow(call: Call) -> Answer:
    workflow = call.service.get_workflow(call.path["id"])
    return _not_found(call) if workflow is None else _ok(call, data=workflow)


def update_workflow(call: Call) -> Answer:
    """PUT: full replacement, but a left-out `is_active` keeps the stored value (decision in
    `WorkflowService.update_workflow`)."""
    workflow = call.service.update_workflow(call.path["id"], call.body, call.plan.body_defaults)
    return _not_found(call) if workflow is None else _ok(call, data=workflow)


def delete_workflow(call: Call) -> Answer:
    return _ok(call) if call.service.delete_workflow(call.path["id"]) else _not_found(call)


def execute_workflow(call: Call) -> Answer:
    execution = call.service.execute_workflow(call.path["id"], call.user)
    return _not_found(call) if execution is None else _ok(call, data=execution)


def list_workflow_logs(call: Call) -> Answer:
    page, limit = _paging(call)
    found = call.service.list_executions(call.path["id"], page, limit)
    return _not_found(call) if found is None else _page_answer(call, found, page, limit)


HANDLERS: dict[str, Handler] = {
    "listWorkflows": list_workflows,
    "createWorkflow": create_workflow,
    "getWorkflow": get_workflow,
    "updateWorkflow": update_workflow,
    "deleteWorkflow": delete_workflow,
    "executeWorkflow": execute_workflow,
    "listWorkflowLogs": list_workflow_logs,
}
"""Operations the spec may add without a handler are answered from their examples (Prism-like)."""
