"""Every Lenz check fails on the server broken for it, and only what it should fails.

Each break of the test servers (and each extra break of `support`) is run through the Lenz checks
(no generated phases: they are few and deterministic), in both profiles. The correct server and
the harmless variations pass both profiles; a strict-only break passes the docs profile.
"""

from __future__ import annotations

import pytest

from lenz_contract.conformance import Profile
from lenz_contract.conformance.checks import load_all
from lenz_contract.conformance.runner import SAFETY_RULE

from .servers import BREAKS, HARMLESS, STRICT_ONLY
from .support import checks_only, extra_break, no_change, target

DOCS, STRICT = Profile.DOCS, Profile.STRICT

# variation: (the checks meant to catch it, other checks it may also fail, and why)
CAUGHT_BY: dict[str, tuple[set[str], set[str]]] = {
    # broken: both profiles fail them
    "wrong_shape": ({"response_conforms"}, {"crud_created_at_stable"}),
    "server_error_on_bad_json": ({"bad_input_refused"}, {"response_conforms", "bad_input_400"}),
    "wrong_content_type": ({"response_conforms"}, set()),
    "auth_ignored": ({"auth_missing_token", "auth_garbage_token"}, {"auth_refusal_401"}),
    "search_case_sensitive": ({"search_case_insensitive"}, set()),
    "search_exact": ({"search_partial"}, {"search_case_insensitive"}),
    # the server pages its logs as it pages its list: the logs checks see the same break
    "total_page_rounded_down": ({"pagination_total_page"}, {"logs_pagination"}),
    "page_ignored": (
        {"pagination_walk"},
        {"pagination_limit", "logs_pagination", "pagination_order"},
    ),
    "limit_ignored": ({"pagination_limit"}, {"logs_pagination"}),
    "current_page_wrong": ({"pagination_current_page"}, {"logs_pagination"}),
    "update_not_persisted": (
        {"crud_update_persists"},
        {"crud_updated_at_moves", "crud_fields_round_trip", "crud_update_replaces"},
    ),
    "updated_at_not_moved": ({"crud_updated_at_moves"}, set()),
    "created_at_changes": ({"crud_created_at_stable"}, set()),
    "delete_not_deleting": ({"crud_delete_removes"}, {"crud_delete_unlists"}),
    "deleted_still_listed": ({"crud_delete_unlists"}, set()),
    "execution_missing_from_logs": (
        {"execution_in_logs"},
        {"logs_pagination", "execution_logs_newest_first"},
    ),
    "node_results_out_of_order": ({"execution_node_order"}, set()),
    "execute_not_finished": (
        {"execution_completes"},
        {"execution_finished", "response_strict_schema"},
    ),
    "unknown_id_500": (
        {"unknown_id_refused"},
        {"response_conforms", "crud_delete_removes", "unknown_id_404"},
    ),
    "wrong_type_accepted": ({"bad_input_refused"}, {"bad_input_400"}),
    "logs_page_ignored": ({"logs_pagination"}, set()),
    "logs_total_page_rounded_down": ({"logs_pagination"}, set()),
    "logs_foreign_entries": ({"logs_belong_to_workflow"}, {"logs_pagination"}),
    "created_active": ({"created_inactive", "crud_fields_round_trip"}, set()),
    "description_not_stored": ({"crud_fields_round_trip"}, {"crud_update_persists"}),
    "manual_run_as_schedule": ({"execution_manual_trigger"}, set()),
    # legitimate: the docs leave the point open; only the strict check of the decision fails
    "unknown_id_400": ({"unknown_id_404"}, set()),
    "logs_unknown_empty": ({"unknown_id_404"}, set()),
    "cron_not_validated": ({"cron_validated"}, set()),
    "config_not_round_tripped": ({"crud_config_round_trip"}, set()),
    "logs_oldest_first": ({"execution_logs_newest_first"}, set()),
    "create_answers_200": ({"crud_create_201"}, set()),
    "empty_total_page_one": ({"pagination_empty_total_page"}, set()),
    "bad_input_accepted": ({"bad_input_400"}, set()),
    "query_fallback": ({"bad_input_400"}, set()),
    "loose_validation": ({"bad_input_400", "cron_validated"}, set()),
    "auth_403": ({"auth_refusal_401"}, set()),
    "auth_bare": ({"auth_refusal_401"}, set()),
    "auth_missing_400": ({"auth_refusal_401"}, set()),
    "wrong_method_404": ({"wrong_method_405"}, set()),
    "limit_uncapped": ({"pagination_limit_cap"}, set()),
    "limit_cap_50": ({"pagination_limit_cap"}, set()),
    "list_newest_first": ({"pagination_order"}, set()),
    "timestamps_offset": ({"response_strict_schema"}, set()),
    # a PUT without a description shows the same default the create does
    "description_null": ({"crud_description_default"}, {"crud_update_replaces"}),
    "description_absent": ({"crud_description_default"}, {"crud_update_replaces"}),
    "messages_changed": ({"response_message"}, set()),
    # a merge accepts a PUT without a name, which a replacement must refuse
    "put_merge": ({"crud_update_replaces"}, {"bad_input_400"}),
    "execute_async": ({"execution_finished"}, {"response_strict_schema"}),
    "execute_refuses_inactive": ({"execution_inactive_allowed"}, set()),
    # extra breaks (support.EXTRA_BREAKS): rules the catalogue has no break for
    "created_not_listed": ({"crud_read_back"}, set()),
    "search_ignored": (
        {"search_excludes"},
        {"pagination_walk", "pagination_empty_total_page"},
    ),
    "bad_input_422": ({"bad_input_400", "cron_validated"}, set()),
}
EXTRA_STRICT_ONLY = {"bad_input_422"}
LEGIT = STRICT_ONLY | EXTRA_STRICT_ONLY
CASES = [
    (name, profile)
    for name in CAUGHT_BY
    for profile in (DOCS, STRICT)
    if profile is STRICT or name not in LEGIT
]


def server(name: str) -> object:
    return target(name) if name in BREAKS else extra_break(name)


@pytest.mark.parametrize(("name", "profile"), CASES, ids=[f"{n}-{p.value}" for n, p in CASES])
def test_each_break_is_caught_by_its_check(name: str, profile: Profile) -> None:
    result = checks_only(server(name), profile)
    meant, also = CAUGHT_BY[name]
    failed = set(result.failed_checks)
    expected = {c for c in meant if profile.includes(_profile_of(c))}
    assert result.exit_code == 1, result.failed_checks
    assert expected <= failed, f"{name}: expected {expected} to fail, failed {failed}"
    assert failed <= meant | also, f"{name}: unexpected failures {failed - meant - also}"
    assert not result.errors


@pytest.mark.parametrize("name", sorted(LEGIT))
def test_legitimate_variations_pass_the_docs_profile(name: str) -> None:
    """A deployment that decides an open point its own way passes the docs profile."""
    result = checks_only(server(name), DOCS)
    assert result.exit_code == 0, [f.summary() for f in result.failures]
    assert not result.errors


def test_every_variation_has_a_verdict() -> None:
    """Each variation of the catalogue is either caught (by named checks) or harmless."""
    assert set(BREAKS) - HARMLESS <= set(CAUGHT_BY)
    assert not HARMLESS & set(CAUGHT_BY)
    for name in STRICT_ONLY:
        meant, _ = CAUGHT_BY[name]
        assert all(_profile_of(check) is STRICT for check in meant), name


@pytest.mark.parametrize("profile", [DOCS, STRICT])
@pytest.mark.parametrize("name", ["", "extra_fields", "slow", "json_charset"])
def test_correct_and_harmless_servers_pass(name: str, profile: Profile) -> None:
    app = target(name) if name else target()
    with no_change(app):
        result = checks_only(app, profile)
    assert result.exit_code == 0, [f.summary() for f in result.failures]
    assert result.created and not result.leftovers


def test_rate_limited_server_is_waited_out_not_failed() -> None:
    """Every 7th answer is a 429 with Retry-After: 1; the run waits and passes (strict: all checks)."""
    app = target("rate_limited")
    result = checks_only(app, STRICT, checks=("pagination", "crud", "auth"))
    assert result.exit_code == 0, [f.summary() for f in result.failures]
    assert result.rate_limit_waits > 0
    assert any(record.status == 429 for record in app.state.request_log)


def test_every_check_has_a_break_that_fails_it() -> None:
    """No check is untested: each one is the meant check of some break above."""
    meant = set().union(*(m for m, _ in CAUGHT_BY.values()))
    registered = set(load_all()) | {SAFETY_RULE.check}
    assert registered <= meant, f"checks without a break: {registered - meant}"


def test_strict_schema_catches_a_running_execution() -> None:
    result = checks_only(target("execute_not_finished"), STRICT)
    failures = [f for f in result.failures if f.check == "response_strict_schema"]
    assert failures and "running" in failures[0].message


def test_execution_checks_need_permission() -> None:
    result = checks_only(target(), DOCS, allow_execute=False)
    skipped = {o.check for o in result.outcomes.values() if o.status.value == "skipped"}
    assert {"execution_completes", "execution_node_order", "execution_in_logs"} <= skipped
    assert result.exit_code == 0


def test_the_mock_header_allows_execution() -> None:
    """A target answering `X-Lenz-Mock` is the mock: execution checks run without the flag."""
    result = checks_only(extra_break("mock_header"), DOCS, allow_execute=False)
    assert result.is_mock and result.execute_allowed
    assert result.outcomes[("executeWorkflow", "execution_completes")].status.value == "passed"


def _profile_of(check: str) -> Profile:
    if check == SAFETY_RULE.check:
        return DOCS
    return load_all()[check].profile
