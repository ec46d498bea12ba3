"""Shared fixtures for the whole suite."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from lenz_contract.spec import Spec

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "fixtures"


@pytest.fixture(scope="session")
def spec() -> Spec:
    return Spec.load()


def load_fixture(relative: str) -> Any:
    return json.loads((FIXTURES / relative).read_text(encoding="utf-8"))
