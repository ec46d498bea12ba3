"""Test-only Lenz servers: one correct in-memory server that can be broken one rule at a time.

The conformance suite is only worth something if each of its checks can fail. These servers
prove it: `make_app()` answers like a correct Lenz deployment (the strict column of
docs/contract-decisions.md), and `make_app(breaks=["search_exact"])` breaks exactly that one rule.
They are independent of `lenz_contract.mock` on purpose, so a bug there cannot hide here.
"""

from .breaks import BREAKS, HARMLESS, STRICT_ONLY
from .lenz import RecordedRequest, make_app

__all__ = ["BREAKS", "HARMLESS", "STRICT_ONLY", "RecordedRequest", "make_app"]
