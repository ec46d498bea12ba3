"""CRUD round trip: what is created reads back, updates persist, deletes delete.

Each fixture creates its own run-named, inactive workflow; the checks read what the answers
said. Timestamps are compared as instants (RFC 3339), not as strings.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ...spec import Source
from ...spec.timestamps import parse_rfc3339
from ..client import Reply
from .registry import DOCS, STRICT, lenz_check
from .run import CheckRun, as_json

CREATE, GET, UPDATE, DELETE = "createWorkflow", "getWorkflow", "updateWorkflow", "deleteWorkflow"
EXECUTE, LOGS, LIST = "executeWorkflow", "listWorkflowLogs", "listWorkflows"
WORKFLOW = "#/components/schemas/Workflow"
INPUT = "#/components/schemas/WorkflowInput"


def instant(value: Any) -> datetime | None:
    """An RFC 3339 timestamp as an instant (any offset, any fraction), or None."""
    return parse_rfc3339(value)


# -- fixtures --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Created:
    body: dict[str, Any]
    created: Reply
    read: Reply
    workflow_id: str


def created(run: CheckRun) -> Created:
    def build(run: CheckRun) -> Created:
        name = run.unique("crud")
        reply, data = run.create(name)
        return Created(run.workflow_body(name), reply, run.client.get(data["id"]), data["id"])

    return run.shared("crud.created", build)


@dataclass(frozen=True)
class Updated:
    body: dict[str, Any]  # the update sent
    created: Reply
    updated: Reply
    read: Reply  # GET after the update
    workflow_id: str


def updated(run: CheckRun) -> Updated:
    def build(run: CheckRun) -> Updated:
        reply, data = run.create(run.unique("update"))
        before = instant(data.get("updated_at"))
        if before is not None:  # a deployment that stamps updated_at at creation: move a second on
            time.sleep(max(0.0, min(1.1, before.timestamp() + 1.05 - time.time())))
        body = run.workflow_body(
            run.unique("updated"),
            description="updated by lenz-contract conform",
            nodes=[run.workflow_body("x")["nodes"][0]],
        )
        answer = run.client.update(data["id"], body)
        return Updated(body, reply, answer, run.client.get(data["id"]), data["id"])

    return run.shared("crud.updated", build)


@dataclass(frozen=True)
class Deleted:
    workflow_id: str
    name: str
    deleted: Reply
    after: tuple[Reply, ...]  # get, update, logs (and execute when allowed) after the delete
    listed: Reply | None  # the list page still holding it, if any


def deleted(run: CheckRun) -> Deleted:
    def build(run: CheckRun) -> Deleted:
        name = run.unique("delete")
        _, data = run.create(name)
        workflow_id = data["id"]
        answer = run.client.delete(workflow_id)
        after = [
            run.client.get(workflow_id),
            run.client.update(workflow_id, run.workflow_body(name)),
            run.client.logs(workflow_id),
        ]
        if run.ctx.execute_allowed:
            after.append(run.client.execute(workflow_id))
        listed = run.find_listed(workflow_id, search=name)
        return Deleted(workflow_id, name, answer, tuple(after), listed)

    return run.shared("crud.deleted", build)


# -- checks ------------------------------------------------------------------------------------


@lenz_check(DOCS, (CREATE, GET, LIST), pointer=WORKFLOW)
def crud_read_back(run: CheckRun) -> None:
    """a created workflow reads back (same id and name) and appears in the list"""
    it = created(run)
    data = it.read.data
    if not it.read.ok or not isinstance(data, dict):
        run.fail(
            GET,
            "a workflow just created does not read back",
            expected="2xx with data",
            reply=it.read,
        )
    elif data.get("id") != it.workflow_id or data.get("name") != it.body["name"]:
        run.fail(
            GET,
            "the workflow read back is not the one created",
            expected=f"id {it.workflow_id!r}, name {it.body['name']!r}",
            actual=f"id {data.get('id')!r}, name {data.get('name')!r}",
            reply=it.read,
        )
    if run.find_listed(it.workflow_id, search=it.body["name"]) is None:
        reply = run.client.list_workflows(search=it.body["name"], limit=100)
        run.fail(
            LIST,
            f"a workflow just created is not listed (search={it.body['name']!r})",
            expected=f"data holds {it.workflow_id!r}",
            reply=reply,
        )


@lenz_check(DOCS, (CREATE, UPDATE, GET), pointer=WORKFLOW)
def crud_fields_round_trip(run: CheckRun) -> None:
    """every field a create or update sends comes back as sent (is_active included; node configs
    may be partial)"""
    made, changed = created(run), updated(run)
    shown = [
        (CREATE, made.body, made.created, FIELDS),
        (GET, made.body, made.read, FIELDS),
        # the docs' own update answer shows `nodes: []` and no description: not compared there
        (UPDATE, changed.body, changed.updated, ("name", "is_active", "trigger_node")),
        (GET, changed.body, changed.read, FIELDS),
    ]
    for operation, sent, reply, fields in shown:
        data = reply.data if isinstance(reply.data, dict) else None
        if data is None:
            continue  # crud_read_back / crud_update_persists say it
        differs = {
            key: (sent[key], answered)
            for key in fields
            if key in sent and (answered := answered_field(data, key)) != comparable(sent, key)
        }
        if differs:
            key, (_, answered) = next(iter(differs.items()))
            run.fail(
                operation,
                f"{key} was sent as {as_json(comparable(sent, key))} and comes back as "
                f"{as_json(answered)}",
                expected=", ".join(f"{k} {as_json(comparable(sent, k))}" for k in differs),
                actual=", ".join(f"{k} {as_json(v[1])}" for k, v in differs.items()),
                reply=reply,
            )


FIELDS = ("name", "description", "is_active", "trigger_node", "nodes")
NODE_FIELDS = ("id", "type", "name")


def comparable(body: dict[str, Any], key: str) -> Any:
    """What of a sent field must come back: all of it, but for nodes their id, type and name
    (the docs' own answers drop config keys) and for the trigger its type and cron."""
    return _shape(key, body.get(key))


def answered_field(data: dict[str, Any], key: str) -> Any:
    return _shape(key, data.get(key, MISSING))


MISSING = "(missing)"


def _shape(key: str, value: Any) -> Any:
    if key == "nodes" and isinstance(value, list):
        return [{k: n.get(k) for k in NODE_FIELDS} if isinstance(n, dict) else n for n in value]
    if key == "trigger_node" and isinstance(value, dict):
        config = value.get("config")
        cron = config.get("cron") if isinstance(config, dict) else None
        return {"type": value.get("type"), "cron": cron}
    return value


@lenz_check(DOCS, (UPDATE,), pointer="{updateWorkflow}")
def crud_update_persists(run: CheckRun) -> None:
    """an update persists: reading the workflow back shows the new values"""
    it = updated(run)
    run.require_data(it.updated, "the update")
    data = it.read.data if isinstance(it.read.data, dict) else {}
    got = {k: data.get(k) for k in ("name", "description")}
    sent = {k: it.body[k] for k in ("name", "description")}
    nodes = [n.get("id") for n in data.get("nodes") or [] if isinstance(n, dict)]
    sent_nodes = [n["id"] for n in it.body["nodes"]]
    if not it.read.ok or got != sent or nodes != sent_nodes:
        run.fail(
            UPDATE,
            "after an update answered 2xx, reading the workflow back shows the old values",
            expected=f"{sent}, nodes {sent_nodes}",
            actual=f"{got}, nodes {nodes}",
            reply=it.read,
            steps=[it.updated],
        )


@lenz_check(DOCS, (UPDATE,), pointer=f"{WORKFLOW}/properties/updated_at")
def crud_updated_at_moves(run: CheckRun) -> None:
    """an update moves updated_at (set, not before created_at, later than before)"""
    it = updated(run)
    before_data = it.created.data if isinstance(it.created.data, dict) else {}
    before = instant(before_data.get("updated_at"))
    created_at = instant(before_data.get("created_at"))
    for reply in (it.updated, it.read):
        data = reply.data if isinstance(reply.data, dict) else {}
        after = instant(data.get("updated_at"))
        late_enough = after is not None and (before is None or after > before)
        if not late_enough or (created_at is not None and after is not None and after < created_at):
            run.fail(
                UPDATE,
                f"updated_at is {data.get('updated_at')!r} after an update "
                f"(it was {before_data.get('updated_at')!r} before)",
                expected="a timestamp later than before, not before created_at",
                actual=f"updated_at {data.get('updated_at')!r}",
                reply=reply,
            )
            return


@lenz_check(DOCS, (UPDATE,), pointer=f"{WORKFLOW}/properties/created_at")
def crud_created_at_stable(run: CheckRun) -> None:
    """created_at never changes (the update answer and a read after it keep it)"""
    it = updated(run)
    first = (
        instant(it.created.data.get("created_at")) if isinstance(it.created.data, dict) else None
    )
    if first is None:
        run.abort(CREATE, "the create answer has no created_at timestamp", reply=it.created)
    for reply in (it.updated, it.read):
        data = reply.data if isinstance(reply.data, dict) else {}
        if instant(data.get("created_at")) != first:
            run.fail(
                UPDATE,
                f"created_at changed from {it.created.data.get('created_at')!r} "
                f"to {data.get('created_at')!r}",
                expected=f"created_at {it.created.data.get('created_at')!r}",
                actual=f"created_at {data.get('created_at')!r}",
                reply=reply,
            )
            return


@lenz_check(DOCS, (DELETE,), pointer="{deleteWorkflow}")
def crud_delete_removes(run: CheckRun) -> None:
    """after a delete, get, update and execute answer a 4xx with the error envelope; logs a 4xx
    too, or an empty page"""
    it = deleted(run)
    if not it.deleted.ok:
        run.abort(
            DELETE, "deleting a workflow this run created did not answer 2xx", reply=it.deleted
        )
    for reply in it.after:
        if refused(reply) or (reply.operation == LOGS and empty_page(reply)):
            continue
        run.fail(
            DELETE,
            f"after the delete, {reply.exchange.method} {reply.operation} still answers "
            f"{reply.status}",
            expected="4xx with {ok: false, message}"
            + (", or an empty page" if reply.operation == LOGS else ""),
            reply=reply,
            steps=[it.deleted],
        )


def refused(reply: Reply) -> bool:
    """A 4xx with the documented error envelope."""
    return 400 <= reply.status < 500 and reply.is_error_envelope()


def empty_page(reply: Reply) -> bool:
    """A 2xx page with no data (logs of an unknown workflow may answer so)."""
    return reply.ok and reply.data == [] and reply.field("total_data") in (0, None)


@lenz_check(DOCS, (DELETE, LIST), pointer="{deleteWorkflow}")
def crud_delete_unlists(run: CheckRun) -> None:
    """a deleted workflow is no longer listed"""
    it = deleted(run)
    if not it.deleted.ok:
        run.skip("the delete itself failed (see crud_delete_removes)")
    if it.listed is not None:
        run.fail(
            LIST,
            f"the deleted workflow {it.workflow_id!r} is still listed",
            expected=f"data without {it.workflow_id!r}",
            reply=it.listed,
            steps=[it.deleted],
        )


@lenz_check(STRICT, (CREATE,), pointer="{createWorkflow}/responses/201")
def crud_create_201(run: CheckRun) -> None:
    """a create answers 201 Created"""
    it = created(run)
    if it.created.status != 201:
        run.fail(CREATE, f"a create answered {it.created.status}", expected="201", reply=it.created)


@lenz_check(STRICT, (CREATE, GET), pointer=f"{INPUT}/properties/description/default")
def crud_description_default(run: CheckRun) -> None:
    """a description left out of a create is answered as """ ""
    body = run.workflow_body(run.unique("no-description"))
    del body["description"]
    reply = run.client.create(body)
    data = run.require_data(reply, "creating a workflow without a description")
    read = run.client.get(str(data.get("id")))
    for operation, shown in ((CREATE, reply), (GET, read)):
        found = shown.data.get("description", MISSING) if isinstance(shown.data, dict) else None
        if found != "":
            run.fail(
                operation,
                f"a description left out is answered as {as_json(found)}",
                expected='description ""',
                reply=shown,
            )
            return


@lenz_check(STRICT, (UPDATE,), pointer="{updateWorkflow}/x-lenz-update")
def crud_update_replaces(run: CheckRun) -> None:
    """PUT replaces the workflow: a description left out becomes """ ""
    _, data = run.create(run.unique("replace"))
    body = run.workflow_body(str(data.get("name")))
    del body["description"]
    answer = run.client.update(data["id"], body)
    run.require_data(answer, "the update")
    read = run.client.get(data["id"])
    found = read.data.get("description", MISSING) if isinstance(read.data, dict) else None
    if found != "":
        run.fail(
            UPDATE,
            f"after a PUT without a description, the workflow reads back with description "
            f"{as_json(found)} (kept, not replaced)",
            expected='description "" (a full replacement)',
            reply=read,
            steps=[answer],
        )


@lenz_check(
    STRICT,
    (CREATE, GET),
    source=Source.INFERRED,
    reason="the docs' own create answer drops config keys; equality is the mock's convention",
    pointer="#/components/schemas/ActionNode",
)
def crud_config_round_trip(run: CheckRun) -> None:
    """node configs round-trip: every key sent comes back with its value"""
    it = created(run)
    sent = {n["id"]: n["config"] for n in it.body["nodes"]}
    for operation, reply in ((CREATE, it.created), (GET, it.read)):
        data = reply.data if isinstance(reply.data, dict) else {}
        got = {n.get("id"): n.get("config") for n in data.get("nodes") or [] if isinstance(n, dict)}
        lost = {
            node: {k: v for k, v in config.items() if (got.get(node) or {}).get(k) != v}
            for node, config in sent.items()
        }
        lost = {node: keys for node, keys in lost.items() if keys}
        if lost:
            run.fail(
                operation,
                f"node configs lost what was sent: {lost}",
                expected=f"configs holding {sent}",
                actual=f"configs {got}",
                reply=reply,
            )
