"""The docs profile asserts only what the docs promise: no rule of it rests on an inference.

Every rule a run can assert is walked: the Lenz checks, the exchange checks and schemathesis's
own checks, each in each profile. A failure in the docs profile must always mean "this breaks
what the docs promise", so none of its rules may be inferred; and every rule names where in the
spec it lives, by a pointer that resolves.
"""

from __future__ import annotations

import pytest

from lenz_contract.conformance import Profile, RunContext, Source, Target
from lenz_contract.conformance.checks import load_all
from lenz_contract.conformance.profiles import BUILTIN, schemathesis_checks
from lenz_contract.conformance.results import Rule
from lenz_contract.spec import Spec, SpecError, provenance_at


def rules(spec: Spec, profile: Profile) -> list[Rule]:
    """Every rule a run of `profile` asserts."""
    found = [c.rule_for(spec) for c in load_all().values() if profile.includes(c.profile)]
    found += [c.rule(profile) for c in BUILTIN.values() if c.asserted_in(profile)]
    return found


def test_the_docs_profile_holds_no_inferred_rule(spec: Spec) -> None:
    docs = rules(spec, Profile.DOCS)
    assert len(docs) >= 30
    inferred = [f"{r.check}: {r.reason}" for r in docs if r.source is Source.INFERRED]
    assert inferred == []
    assert {r.profile for r in docs} == {"docs"}


def test_the_strict_profile_adds_the_inferred_rules(spec: Spec) -> None:
    strict = rules(spec, Profile.STRICT)
    inferred = {r.check for r in strict if r.source is Source.INFERRED}
    assert {
        "unknown_id_404",
        "bad_input_400",
        "cron_validated",
        "crud_create_201",
        "execution_finished",
        "pagination_empty_total_page",
        "pagination_limit_cap",
        "auth_refusal_401",
        "wrong_method_405",
    } <= inferred


def test_every_rule_is_documented_inferred_or_universal_with_its_why(spec: Spec) -> None:
    for rule in rules(spec, Profile.STRICT):
        if rule.source is not Source.UNIVERSAL:
            assert rule.reason, rule.check
        if rule.source is Source.DOCUMENTED:
            assert "docs" in (rule.reason or ""), rule


@pytest.mark.parametrize("check", sorted(load_all()), ids=lambda name: str(name))
def test_every_check_points_at_a_place_that_exists(spec: Spec, check: str) -> None:
    rule = load_all()[check].rule_for(spec)  # raises on a stale pointer
    if rule.pointer is not None:
        assert rule.pointer.startswith("#/")
        provenance_at(spec.document, rule.pointer)
    assert rule.text and rule.source in set(Source)


def test_checks_are_found_by_module_and_named_once() -> None:
    from lenz_contract.conformance.checks import families
    from lenz_contract.conformance.checks.registry import lenz_check

    assert families() == [
        "auth",
        "crud",
        "errors",
        "execution",
        "pagination",
        "responses",
        "search",
    ]
    assert all(c.family in c.run.__module__ for c in load_all().values() if c.run)

    def search_partial(run: object) -> None:  # the name of an existing check
        """a rule"""

    with pytest.raises(ValueError, match="already registered"):
        lenz_check(profile=Profile.DOCS, operations=("listWorkflows",))(search_partial)

    def no_rule(run: object) -> None:
        pass

    with pytest.raises(ValueError, match="needs a docstring"):
        lenz_check(profile=Profile.DOCS, operations=("listWorkflows",))(no_rule)


def test_operations_are_read_from_the_spec(spec: Spec) -> None:
    checks = load_all()
    assert checks["unknown_id_refused"].covers(spec) == (
        "getWorkflow",
        "updateWorkflow",
        "deleteWorkflow",
        "executeWorkflow",
        "listWorkflowLogs",
    )
    assert checks["auth_missing_token"].covers(spec) == tuple(spec.operations)
    assert checks["crud_update_replaces"].rule_for(spec).pointer == (
        spec.operation("updateWorkflow").pointer + "/x-lenz-update"
    )


def test_a_stale_pointer_stops_the_rule_instead_of_passing_as_universal(spec: Spec) -> None:
    check = load_all()["search_partial"]
    for stale in ("#/components/parameters/nothing", "{noSuchOperation}/x"):
        broken = type(check)(**{**check.__dict__, "pointer": stale})
        with pytest.raises(SpecError):
            broken.rule_for(spec)


def test_schemathesis_checks_of_the_docs_profile(spec: Spec) -> None:
    docs = RunContext(Target.http("http://127.0.0.1:1"), "t")
    table = schemathesis_checks(docs)
    assert table["ignored_auth"]["enabled"] is False  # echo-jwt answers a missing token 400
    assert table["use_after_free"]["enabled"] is False  # logs of a deleted id: an empty page
    assert table["negative_data_rejection"]["expected-statuses"] == ["4xx"]
    assert table["negative_data_rejection"]["enabled"] is True
