"""Where the shipped contract and fixtures live inside the installed package."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def _data_dir() -> Path:
    return Path(str(files("lenz_contract") / "data"))


SHIPPED_SPEC_PATH: Path = _data_dir() / "lenz-workflows.yaml"
"""The contract, `openapi/lenz-workflows.yaml` in the repository."""

FIXTURES_DIR: Path = _data_dir() / "fixtures"
"""The docs' payloads (`docs/`) and the mock's seed data (`seed/`), `fixtures/` in the repository."""

DOCS_REFERENCE_PATH: Path = _data_dir() / "lenz-workflows-api-reference.txt"
"""The Lenz Workflows API reference the contract is written from, as published (Indonesian);
`openapi/source/` in the repository. Every `x-lenz-quote` phrase is a piece of it."""
