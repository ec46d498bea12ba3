"""A long schemathesis run against the live mock: thousands of valid and invalid requests.

Risk covered: an input nobody thought of makes the mock crash (5xx) or answer something the
spec does not allow (an undocumented status, a non-JSON body, a body off its schema), which a
frontend developer would then code against. `tests/mock/test_schemathesis.py` runs 25 examples
per operation and mode as a quick check; this one runs schemathesis' own engine (the code path
of `st run`) with the examples, coverage and fuzzing phases, ~300 examples per operation in
both generation modes, and counts what was really sent.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import Status, events, from_schema
from schemathesis.generation import GenerationMode

from lenz_contract.mock import create_app
from lenz_contract.spec import Spec

from ..support.live import serve
from ..support.processes import MOCK_AUTH as AUTH

MAX_EXAMPLES = 300
CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
]
CONFIG = f"""
seed = 20261128
[cache]
enabled = false
[generation]
mode = "all"
max-examples = {MAX_EXAMPLES}
database = "none"
[phases.stateful]
enabled = false
# DELETE draws ids from earlier answers by default; once they are deleted hypothesis runs out
# of new inputs after a dozen cases. Fresh ids keep DELETE at the full count.
[[operations]]
include-method = "DELETE"
phases.fuzzing.extra-data-sources.responses = false
"""


@dataclass
class RunReport:
    """What the engine sent and what it found."""

    sent: Counter[str] = field(default_factory=Counter)  # by operation
    phases: Counter[str] = field(default_factory=Counter)
    modes: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def run_engine(base_url: str) -> RunReport:
    config = SchemathesisConfig.from_str(CONFIG)
    config.projects.override.update(
        base_url=base_url, headers=AUTH, continue_on_failure=True, workers=1, request_timeout=10
    )
    config.projects.override.checks.update(included_check_names=CHECKS)
    schema = schemathesis.openapi.from_dict(Spec.load().document, config=config)
    report = RunReport()
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            record(event, report)
        elif isinstance(event, events.NonFatalError):
            report.errors.append(f"{event.label}: {event.info.title}: {event.info.message}")
        elif isinstance(event, events.FatalError):
            raise event.exception
    return report


def record(event: events.ScenarioFinished, report: RunReport) -> None:
    recorder = event.recorder
    for case_id, interaction in recorder.interactions.items():
        if interaction.response is None:
            continue
        report.sent[event.label or "(unlabelled)"] += 1
        report.phases[event.phase.value] += 1
        report.statuses[interaction.response.status_code] += 1
        node = recorder.cases.get(case_id)
        meta = node.value.meta if node is not None else None
        if meta is not None:
            report.modes[meta.generation.mode.value] += 1
    for case_id, checks in recorder.checks.items():
        for check in checks:
            if check.status == Status.FAILURE and check.failure_info is not None:
                failure = check.failure_info.failure
                data = recorder.find_failure_data(parent_id=case_id, failure=failure)
                curl = data.case.as_curl_command(headers=data.headers, verify=data.verify)
                report.failures.append(f"{check.name}: {failure.title}\n  {curl}")


@pytest.fixture(scope="module")
def report() -> Iterator[RunReport]:
    app = create_app(self_check=True, scheduler=False)
    with serve(app) as base_url:
        yield run_engine(base_url)
    assert not app.state.mock.failures, "\n".join(app.state.mock.failures)


@pytest.mark.slow
def test_thousands_of_cases_find_no_5xx_and_no_answer_off_the_spec(report: RunReport) -> None:
    """The core risk: a 5xx, or an answer off the spec, for any input to any operation."""
    assert not report.failures, "\n".join(report.failures[:20])
    assert not report.errors, "\n".join(report.errors[:20])
    assert not [status for status in report.statuses if status >= 500]


@pytest.mark.slow
def test_the_run_was_really_long_and_covered_everything(report: RunReport) -> None:
    """Guards the fuzz test itself: a misconfigured run that sends 20 cases would pass silently."""
    operations = {f"{op.method.upper()} {op.path}" for op in Spec.load().operations.values()}
    assert set(report.sent) == operations
    assert sum(report.sent.values()) >= 2000, report.sent
    assert min(report.sent.values()) >= MAX_EXAMPLES * 0.8, report.sent
    assert {"examples", "coverage", "fuzzing"} <= set(report.phases), report.phases
    assert report.modes[GenerationMode.POSITIVE.value] >= 1000, report.modes
    assert report.modes[GenerationMode.NEGATIVE.value] >= 300, report.modes
    # Valid input got past validation and invalid input was refused: both paths were exercised.
    assert sum(n for s, n in report.statuses.items() if 200 <= s < 300) >= 500, report.statuses
    assert report.statuses[400] >= 300, report.statuses
