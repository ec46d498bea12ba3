"""schemathesis's phases, through the guard: its checks catch what they are meant for, and the
profiles configure them as docs/contract-decisions.md says."""

from __future__ import annotations

import time
from typing import Any

import pytest

from lenz_contract.conformance import Profile, RunContext, RunOptions, Target
from lenz_contract.conformance.generation import schemathesis_config, selected_operations
from lenz_contract.conformance.profiles import generation_document
from lenz_contract.spec import Spec

from .servers import HARMLESS, STRICT_ONLY
from .support import generation_only, target

SPEC = Spec.load()


@pytest.mark.parametrize(
    ("name", "operation", "check", "profile"),
    [
        ("wrong_shape", "listWorkflows", "response_schema_conformance", Profile.DOCS),
        ("wrong_content_type", "listWorkflows", "content_type_conformance", Profile.DOCS),
        ("server_error_on_bad_json", "createWorkflow", "not_a_server_error", Profile.DOCS),
        # loose otherwise, so that only the wrong type decides
        (
            "loose_validation+wrong_type_accepted",
            "createWorkflow",
            "negative_data_rejection",
            Profile.DOCS,
        ),
        ("unknown_id_500", "getWorkflow", "not_a_server_error", Profile.DOCS),
        # strict only: the docs do not say a refusal of the token is 401 or 403
        ("auth_ignored", "listWorkflows", "ignored_auth", Profile.STRICT),
        # strict only: the logs of a deleted workflow may answer an empty page
        ("delete_not_deleting", "createWorkflow", "use_after_free", Profile.STRICT),
    ],
)
def test_schemathesis_checks_catch_their_breaks(
    name: str, operation: str, check: str, profile: Profile
) -> None:
    only: tuple[str, ...] = (operation,)
    examples = 5
    if check == "use_after_free":  # needs a stateful create → delete → get: a longer run
        only, examples = ("createWorkflow", "getWorkflow", "deleteWorkflow"), 20
    result = generation_only(target(*name.split("+")), profile, only=only, max_examples=examples)
    assert result.exit_code == 1 and check in result.failed_checks, result.failed_checks
    failure = next(f for f in result.failures if f.check == check)
    assert failure.curl and failure.curl.startswith("curl -X ")
    assert failure.seed == 7 and "--seed 7" in result.replay_for(failure)
    assert "good-token" not in failure.message + failure.curl


@pytest.mark.parametrize("name", sorted(STRICT_ONLY | HARMLESS - {"slow", "rate_limited"}))
def test_docs_profile_generation_has_no_false_alarms(name: str) -> None:
    """Every legitimate variation passes the generated phases of the docs profile too."""
    result = generation_only(target(name))
    assert result.exit_code == 0, [f.summary() for f in result.failures] + result.errors


def test_strict_generation_refuses_an_unvalidated_cron() -> None:
    result = generation_only(target("cron_not_validated"), Profile.STRICT, only=("createWorkflow",))
    assert "negative_data_rejection" in result.failed_checks


def ctx(profile: Profile, **options: Any) -> RunContext:
    return RunContext(
        Target.http("http://lenz.test"), "t", RunOptions(profile=profile, **options), spec=SPEC
    )


def test_docs_profile_asserts_acceptance_of_the_docs_examples_only() -> None:
    table = schemathesis_config(ctx(Profile.DOCS))
    assert table["checks"]["positive_data_acceptance"] == {"enabled": False}
    assert table["phases"]["examples"]["checks"]["positive_data_acceptance"] == {"enabled": True}
    assert table["checks"]["negative_data_rejection"]["expected-statuses"] == ["4xx"]
    # the docs' example ids are not on a real deployment: no acceptance asserted there
    assert "getWorkflow" in table["operations"][0]["include-operation-id"]
    strict = schemathesis_config(ctx(Profile.STRICT))
    assert strict["checks"]["positive_data_acceptance"]["enabled"] is True
    assert strict["checks"]["negative_data_rejection"]["expected-statuses"][0] == "400"


def test_link_inference_and_response_reuse_are_off() -> None:
    table = schemathesis_config(ctx(Profile.DOCS))
    assert table["phases"]["stateful"]["inference"] == {"algorithms": []}
    for phase in ("examples", "coverage", "fuzzing"):
        assert table["phases"][phase]["extra-data-sources"] == {"responses": False}
    assert table["phases"]["coverage"]["unexpected-methods"] == []
    assert "max-time" not in table and table["workers"] == 1


def test_the_docs_profile_does_not_assert_cron() -> None:
    docs = generation_document(ctx(Profile.DOCS), list(SPEC.operations))
    strict = generation_document(ctx(Profile.STRICT), list(SPEC.operations))
    assert "pattern" not in docs["components"]["schemas"]["CronExpression"]
    assert "pattern" in strict["components"]["schemas"]["CronExpression"]


def test_operations_left_out_take_their_links_along() -> None:
    run = ctx(Profile.DOCS)  # execution not allowed
    ops = selected_operations(run)
    assert "executeWorkflow" not in ops
    document = generation_document(run, ops)
    assert "/api/workflows/{id}/execute" not in document["paths"]
    links = document["paths"]["/api/workflows"]["post"]["responses"]["201"]["links"]
    assert "ExecuteWorkflow" not in links and "GetWorkflow" in links
    read_only = selected_operations(ctx(Profile.DOCS, read_only=True))
    assert read_only == ["listWorkflows", "getWorkflow", "listWorkflowLogs"]


def test_the_time_budget_is_a_ceiling() -> None:
    """`--time-budget` stops the generated phases early; it does not make them last longer."""
    started = time.monotonic()
    result = generation_only(target("slow"), max_examples=50, time_budget=2)
    assert time.monotonic() - started < 20
    assert result.exit_code == 0 and not result.interrupted
    assert any("time budget" in note for note in result.notes)
