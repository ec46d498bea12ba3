"""A deployment that takes the lenient side of every point the docs leave open passes the docs
profile, over real HTTP, generated phases included; the strict profile names each decision it
does not follow.

The server (`servers/lenient.py`) is written independently of the mock and of the strict test
server, as an echo + encoding/json backend with default settings would answer: 200 on create,
echo-jwt's own auth answers, 400 for unknown ids, 404 for a wrong method, query values falling
back to defaults, no limit cap, newest first, +07:00 timestamps with nanoseconds, PUT as a merge,
execute answering a run in progress and refusing inactive workflows, logs of an unknown id
empty, Go's zero values and nulls, extra fields everywhere, `application/json; charset=UTF-8`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis.configuration import set_hypothesis_home_dir

from lenz_contract.conformance import Profile, RunOptions, Target, run

from ..support.live import serve
from .servers.lenient import make_lenient_app
from .support import TOKEN, foreign_workflows

STRICT_DECISIONS = {
    "crud_create_201",
    "auth_refusal_401",
    "unknown_id_404",
    "wrong_method_405",
    "bad_input_400",
    "cron_validated",
    "pagination_limit_cap",
    "pagination_order",
    "pagination_empty_total_page",
    "execution_logs_newest_first",
    "execution_finished",
    "execution_inactive_allowed",
    "crud_description_default",
    "crud_update_replaces",
    "response_strict_schema",
    "response_message",
}


@pytest.fixture(autouse=True)
def _hypothesis_home() -> Iterator[None]:
    yield
    set_hypothesis_home_dir(None)


@pytest.fixture
def lenient() -> Iterator[tuple[str, Any]]:
    app = make_lenient_app(seed=foreign_workflows(), rate_limit_every=40, retry_after="0")
    with serve(app) as url:
        yield url, app


def options(profile: Profile, **more: Any) -> RunOptions:
    return RunOptions(
        profile=profile,
        allow_execute=True,
        max_examples=5,
        seed=11,
        execution_timeout=5.0,
        **more,
    )


def test_the_docs_profile_passes_the_lenient_deployment(lenient: tuple[str, Any]) -> None:
    url, app = lenient
    before = {k: dict(v) for k, v in app.state.workflows.items() if not k.startswith("lenz")}
    result = run(Target.http(url), TOKEN, options(Profile.DOCS))
    assert result.exit_code == 0, [f.summary() for f in result.failures] + result.errors
    assert result.rate_limit_waits > 0  # its 429s were waited out
    assert not result.leftovers and not result.safety
    still = {k: dict(v) for k, v in app.state.workflows.items() if k in before}
    assert still == before  # foreign data untouched
    assert result.coverage()[0] == "7/7 operations exercised"


def test_the_strict_profile_names_each_decision_it_does_not_follow(
    lenient: tuple[str, Any],
) -> None:
    url, _ = lenient
    result = run(Target.http(url), TOKEN, options(Profile.STRICT, generation=False))
    failed = set(result.failed_checks)
    assert failed >= STRICT_DECISIONS, STRICT_DECISIONS - failed
    docs_rules = {o.check for o in result.outcomes.values() if o.rule.profile == "docs"}
    assert not failed & docs_rules, failed & docs_rules  # only strict rules fail


def test_execution_uses_a_dormant_workflow_when_inactive_ones_are_refused(
    lenient: tuple[str, Any],
) -> None:
    url, app = lenient
    result = run(Target.http(url), TOKEN, options(Profile.DOCS, generation=False))
    assert result.outcomes[("executeWorkflow", "execution_completes")].status.value == "passed"
    creates = [
        r.body
        for r in app.state.request_log
        if r.method == "POST" and r.path == "/api/workflows" and isinstance(r.body, dict)
    ]
    active = [b for b in creates if b.get("is_active") is True]
    assert active  # the fallback was used: the inactive workflows were refused
    assert {b["trigger_node"]["config"]["cron"] for b in active} == {"0 0 0 30 2 *"}
    assert all(b["name"].startswith(f"lenz-contract-{result.run_id}-") for b in active)
    seeded = {w["id"] for w in foreign_workflows()}
    assert app.state.executions and not seeded & set(app.state.executions)
