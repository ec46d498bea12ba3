"""The stateful mock of the Lenz Workflows API: web app, execution engine and scheduler."""

from .app import create_app
from .config import MockConfig

__all__ = ["MockConfig", "create_app"]
