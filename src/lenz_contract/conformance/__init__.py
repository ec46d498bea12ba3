"""The conformance suite: property-test a Lenz deployment against the contract, safely.

`run(Target.http(url), token, RunOptions(...))` runs the Lenz checks (`checks/`) and the
schemathesis phases (`generation`) through the guard (`guard`), cleans up what it created, and
returns a `RunResult` for the reports (`report/`). The CLI is `lenz-contract conform`; the pytest
plugin is `pytest --pyargs lenz_contract.conformance --lenz-base-url URL --lenz-token TOKEN`.

Names are imported on first use: the pytest plugin loads this package in every pytest run, and
must cost nothing there.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..spec import Source
    from .context import Profile, RunContext, RunOptions, Target
    from .results import Exchange, Failure, Outcome, Rule, RunResult, Status
    from .runner import PreflightError, run
    from .session import Session

_WHERE = {
    "Profile": "context",
    "RunContext": "context",
    "RunOptions": "context",
    "Source": "context",
    "Target": "context",
    "Exchange": "results",
    "Failure": "results",
    "Outcome": "results",
    "Rule": "results",
    "RunResult": "results",
    "Status": "results",
    "PreflightError": "runner",
    "run": "runner",
    "Session": "session",
}

__all__ = [
    "Exchange",
    "Failure",
    "Outcome",
    "PreflightError",
    "Profile",
    "Rule",
    "RunContext",
    "RunOptions",
    "RunResult",
    "Session",
    "Source",
    "Status",
    "Target",
    "run",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
