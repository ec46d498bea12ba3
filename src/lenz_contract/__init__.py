"""lenz-contract: the Lenz Workflows API contract, a stateful mock, a conformance suite and a proxy."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("lenz-contract")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0"

__all__ = ["__version__"]
