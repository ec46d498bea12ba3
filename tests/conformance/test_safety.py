"""A run on a deployment with data of its own leaves that data exactly as it was.

The target is seeded with foreign workflows (one of them active). The whole run (the Lenz checks
and every generated phase, execution allowed) must send no write to them, create nothing
active, and leave the target holding exactly what it held before.
"""

from __future__ import annotations

import re

import pytest

from lenz_contract.conformance import Profile, RunOptions, Target, run

from .servers import RecordedRequest
from .support import TOKEN, foreign_workflows, no_change, target

FOREIGN = {w["id"] for w in foreign_workflows()}
WRITES = {"POST", "PUT", "PATCH", "DELETE"}
ITEM = re.compile(r"^/api/workflows/([^/]+)")


def writes_to_foreign(log: list[RecordedRequest]) -> list[RecordedRequest]:
    return [
        r
        for r in log
        if r.method in WRITES and (m := ITEM.match(r.path)) is not None and m.group(1) in FOREIGN
    ]


def active_writes(log: list[RecordedRequest]) -> list[RecordedRequest]:
    """Accepted creates and updates that left (or made) a workflow active."""
    return [
        r
        for r in log
        if r.method in ("POST", "PUT")
        and r.status is not None
        and 200 <= r.status < 300
        and (r.path == "/api/workflows" or (ITEM.match(r.path) and r.method == "PUT"))
        and not (isinstance(r.body, dict) and r.body.get("is_active") is False)
    ]


@pytest.mark.parametrize(
    ("profile", "allow_execute"), [(Profile.STRICT, True), (Profile.DOCS, False)]
)
def test_a_full_run_never_touches_foreign_workflows(profile: Profile, allow_execute: bool) -> None:
    app = target()
    with no_change(app):
        result = run(
            Target.in_process(app),
            TOKEN,
            RunOptions(profile=profile, allow_execute=allow_execute, max_examples=5, seed=11),
        )
    log = app.state.request_log
    if not allow_execute:  # nothing ran: every execute went to an id no workflow has
        executed = [r for r in log if r.method == "POST" and r.path.endswith("/execute")]
        assert all(f"lenz-contract-{result.run_id}-absent" in r.path for r in executed)
    assert result.exit_code == 0, [f.summary() for f in result.failures] + result.errors
    assert writes_to_foreign(log) == []
    assert active_writes(log) == []
    assert result.guard_rewrites > 0  # the generated phases did aim writes at foreign ids
    assert len(result.created) > 10 and not result.leftovers
    names = [r.body.get("name") for r in log if r.method == "POST" and isinstance(r.body, dict)]
    named = [n for n in names if isinstance(n, str) and n]  # other names are negative data
    assert named and all(n.startswith(f"lenz-contract-{result.run_id}-") for n in named)


def test_read_only_sends_get_requests_only() -> None:
    app = target()
    with no_change(app):
        result = run(
            Target.in_process(app),
            TOKEN,
            RunOptions(read_only=True, max_examples=5, seed=3),
        )
    assert result.exit_code == 0, [f.summary() for f in result.failures] + result.errors
    assert {r.method for r in app.state.request_log} == {"GET"}
    assert not result.created and result.guard_refusals == 0
    checks = {o.check for o in result.outcomes.values() if o.status.value == "passed"}
    assert {"pagination_walk", "search_case_insensitive", "auth_missing_token"} <= checks


def test_what_could_not_be_deleted_is_listed() -> None:
    app = target("delete_not_deleting")
    result = run(Target.in_process(app), TOKEN, RunOptions(generation=False, allow_execute=True))
    assert result.leftovers and set(result.leftovers) <= set(result.created)
    assert set(result.leftovers) == set(app.state.workflows) - {
        w["id"] for w in foreign_workflows()
    }
