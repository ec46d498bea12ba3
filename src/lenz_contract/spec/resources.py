"""Where the shipped contract and fixtures live inside the installed package."""

from __future__ import annotations

from pathlib import Path


def _data_dir() -> Path:
    """The package's `data` folder. A path next to this file, as `importlib.resources.files`
    gives for a package on disk (the only kind these paths ever served: they are handed to
    `open` and `Path` APIs), without importing importlib.resources and zipfile (~2 ms)."""
    return Path(__file__).resolve().parent.parent / "data"


SHIPPED_SPEC_PATH: Path = _data_dir() / "lenz-workflows.yaml"
"""The contract, `openapi/lenz-workflows.yaml` in the repository."""

FIXTURES_DIR: Path = _data_dir() / "fixtures"
"""The docs' payloads (`docs/`) and the mock's seed data (`seed/`), `fixtures/` in the repository."""

DOCS_REFERENCE_PATH: Path = _data_dir() / "lenz-workflows-api-reference.txt"
"""The Lenz Workflows API reference the contract is written from, as published (Indonesian);
`openapi/source/` in the repository. Every `x-lenz-quote` phrase is a piece of it."""
