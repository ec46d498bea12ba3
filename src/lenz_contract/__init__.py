"""lenz-contract: the Lenz Workflows API contract, a stateful mock, a conformance suite and a proxy."""

from __future__ import annotations

from typing import Any

__all__ = ["__version__"]


def __getattr__(name: str) -> Any:
    """`__version__`, read from the installed metadata on first use: importlib.metadata costs
    ~25 ms to import, and the mock's start-up never needs it."""
    if name != "__version__":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        found = version("lenz-contract")
    except PackageNotFoundError:  # running from a source tree that was not installed
        found = "0.0.0"
    globals()["__version__"] = found
    return found
