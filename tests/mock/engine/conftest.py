"""Shared fixtures of the engine tests: a frozen mock clock, the seeded context, the docs' workflow."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from lenz_contract.mock.clock import MockClock
from lenz_contract.mock.engine import EngineContext, MessageCounter
from lenz_contract.spec import FIXTURES_DIR, SchemaValidator, Spec, View
from lenz_contract.spec.fixtures import load_fixtures

from ...conftest import load_fixture

DOCS_RUN_AT = datetime(2025, 4, 30, 7, 0, 0, tzinfo=UTC)
"""When the docs' example execution started."""


@pytest.fixture
def clock() -> MockClock:
    return MockClock.frozen(DOCS_RUN_AT)


@pytest.fixture
def messages() -> MessageCounter:
    return MessageCounter()


def seed_credentials(spec: Spec) -> set[str]:
    """The credential ids of the shipped seed, read by the one fixtures loader."""
    return {str(c["id"]) for c in load_fixtures(FIXTURES_DIR, spec).credentials}


@pytest.fixture
def context(clock: MockClock, messages: MessageCounter, spec: Spec) -> EngineContext:
    return EngineContext(
        now=clock.now, credentials=seed_credentials(spec), messages=messages, spec=spec
    )


@pytest.fixture
def docs_workflow() -> dict[str, Any]:
    """The docs' create request as the mock would store it."""
    workflow: dict[str, Any] = load_fixture("docs/createWorkflow.request.json")
    workflow.update(id="wf-uuid-002", created_at="2025-04-30T06:00:00Z", updated_at=None)
    return workflow


@pytest.fixture(scope="session")
def execution_schema(spec: Spec) -> SchemaValidator:
    return spec.validator("#/components/schemas/Execution", view=View.STRICT)
