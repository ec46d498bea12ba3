"""The validating proxy: forwards an app's traffic to a real Lenz and reports contract drift.

`mock`, `conformance` and `proxy` each stand on `lenz_contract.spec` and never on each other.
"""

from .app import ProxyConfig, create_app

__all__ = ["ProxyConfig", "create_app"]
