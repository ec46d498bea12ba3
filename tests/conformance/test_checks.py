"""Every Lenz check fails on the server broken for it, and only what it should fails.

Each break of the test servers (and each extra break of `support`) is run through the Lenz checks
(no generated phases: they are few and deterministic), in both profiles. The correct server and
the harmless variations pass both profiles; a strict-only break passes the docs profile.
"""

from __future__ import annotations

import pytest

from lenz_contract.conformance import Profile
from lenz_contract.conformance.checks import EXCHANGE_CHECKS, load_all

from .servers import BREAKS, STRICT_ONLY
from .support import checks_only, extra_break, no_change, target

DOCS, STRICT = Profile.DOCS, Profile.STRICT

# break: (the checks meant to catch it, other checks it may also fail)
CAUGHT_BY: dict[str, tuple[set[str], set[str]]] = {
    "wrong_shape": ({"response_conforms"}, {"crud_created_at_stable"}),
    "server_error_on_bad_json": ({"bad_input_refused"}, {"response_conforms", "bad_input_400"}),
    "wrong_content_type": ({"response_conforms"}, set()),
    "auth_ignored": ({"auth_missing_token", "auth_garbage_token"}, set()),
    "search_case_sensitive": ({"search_case_insensitive"}, set()),
    "search_exact": ({"search_partial"}, {"search_case_insensitive"}),
    "total_page_rounded_down": ({"pagination_total_page"}, set()),
    "page_ignored": ({"pagination_walk"}, {"pagination_limit"}),
    "limit_ignored": ({"pagination_limit"}, set()),
    "current_page_wrong": ({"pagination_current_page"}, set()),
    "update_not_persisted": ({"crud_update_persists"}, {"crud_updated_at_moves"}),
    "updated_at_not_moved": ({"crud_updated_at_moves"}, set()),
    "created_at_changes": ({"crud_created_at_stable"}, set()),
    "delete_not_deleting": ({"crud_delete_removes"}, {"crud_delete_unlists"}),
    "deleted_still_listed": ({"crud_delete_unlists"}, set()),
    "execution_missing_from_logs": ({"execution_in_logs"}, set()),
    "node_results_out_of_order": ({"execution_node_order"}, set()),
    "execute_not_finished": ({"execution_finished"}, {"response_strict_enums"}),
    "unknown_id_500": (
        {"unknown_id_refused"},
        {"response_conforms", "crud_delete_removes", "unknown_id_404"},
    ),
    "bad_input_accepted": ({"bad_input_refused"}, {"bad_input_400"}),
    # strict only
    "unknown_id_400": ({"unknown_id_404"}, set()),
    "cron_not_validated": ({"cron_validated"}, set()),
    "config_not_round_tripped": ({"crud_config_round_trip"}, set()),
    "logs_oldest_first": ({"execution_logs_newest_first"}, set()),
    "create_answers_200": ({"crud_create_201"}, set()),
    "empty_total_page_one": ({"pagination_empty_total_page"}, set()),
    # extra breaks (support.EXTRA_BREAKS): rules the catalogue has no break for
    "created_not_listed": ({"crud_read_back"}, set()),
    "search_ignored": (
        {"search_excludes"},
        {
            "pagination_walk",
            "pagination_limit",
            "pagination_total_page",
            "pagination_empty_total_page",
            "crud_delete_unlists",
        },
    ),
    "messages_changed": ({"response_message"}, set()),
    "bad_input_422": ({"bad_input_400"}, {"cron_validated"}),
}
EXTRA_STRICT_ONLY = {"messages_changed", "bad_input_422"}
CASES = [
    (name, profile)
    for name in CAUGHT_BY
    for profile in (DOCS, STRICT)
    if profile is STRICT or (name not in STRICT_ONLY and name not in EXTRA_STRICT_ONLY)
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


@pytest.mark.parametrize("name", sorted(STRICT_ONLY | EXTRA_STRICT_ONLY))
def test_strict_only_breaks_pass_the_docs_profile(name: str) -> None:
    result = checks_only(server(name), DOCS)
    assert result.exit_code == 0, [f.summary() for f in result.failures]


@pytest.mark.parametrize("profile", [DOCS, STRICT])
@pytest.mark.parametrize("name", ["", "extra_fields", "slow"])
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
    registered = set(load_all()) | set(EXCHANGE_CHECKS)
    registered -= {"response_strict_enums"}  # covered by execute_not_finished (strict), below
    assert registered <= meant, f"checks without a break: {registered - meant}"


def test_strict_enums_catch_a_running_execution() -> None:
    result = checks_only(target("execute_not_finished"), STRICT)
    failures = [f for f in result.failures if f.check == "response_strict_enums"]
    assert failures and "running" in failures[0].message


def test_execution_checks_need_permission() -> None:
    result = checks_only(target(), DOCS, allow_execute=False)
    skipped = {o.check for o in result.outcomes.values() if o.status.value == "skipped"}
    assert {"execution_finished", "execution_node_order", "execution_in_logs"} <= skipped
    assert result.exit_code == 0


def test_the_mock_header_allows_execution() -> None:
    """A target answering `X-Lenz-Mock` is the mock: execution checks run without the flag."""
    result = checks_only(extra_break("mock_header"), DOCS, allow_execute=False)
    assert result.is_mock and result.execute_allowed
    assert result.outcomes[("executeWorkflow", "execution_finished")].status.value == "passed"


def _profile_of(check: str) -> Profile:
    checks = load_all()
    if check in checks:
        return checks[check].profile
    return EXCHANGE_CHECKS[check].profile
