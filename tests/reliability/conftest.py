"""Shared helpers of the reliability tests: a valid body (the token and the CLI as a
subprocess are in `tests/support/processes`).

These tests hit the mock the way production traffic would (real uvicorn, real sockets, real
processes); each one is bounded in requests and time and asserts outcomes, never durations.
"""

from __future__ import annotations

from typing import Any

from ..conftest import load_fixture

CREATE: dict[str, Any] = load_fixture("docs/createWorkflow.request.json")
"""The docs' create body: a valid workflow every test can rename."""
