"""Serve the mock with uvicorn (uvloop + httptools when installed): the CLI's engine room.

One worker serves the app built in this process. Several workers (`--workers N`) each import
`app_from_env`, which rebuilds the same config from an environment variable; they must share a
`--state` file or database, since each worker has its own memory.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import socket
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette

from .app import create_app
from .config import MockConfig
from .gc_policy import freeze_survivors

CONFIG_ENV = "LENZ_MOCK_CONFIG"
FACTORY = "lenz_contract.mock.server:app_from_env"


def config_to_env(config: MockConfig) -> str:
    data = dataclasses.asdict(config)
    data.pop("clock", None)
    return json.dumps(data, default=str)


def config_from_env(text: str) -> MockConfig:
    data: dict[str, Any] = json.loads(text)
    for key in ("spec_path", "state_path", "fixtures_dir"):
        if data.get(key) is not None:
            data[key] = Path(data[key])
    data["cors_origins"] = tuple(data.get("cors_origins") or ())
    data["token_namespaces"] = dict(data.get("token_namespaces") or {})
    return MockConfig(**data)


def app_from_env() -> Starlette:
    """uvicorn's factory for worker processes (`--workers N`)."""
    freeze_survivors()
    return create_app(config_from_env(os.environ[CONFIG_ENV]))


class _Server(uvicorn.Server):
    """Calls `on_started(base_url)` once the socket is bound (the port may have been 0)."""

    def __init__(self, config: uvicorn.Config, on_started: Callable[[str], None]) -> None:
        super().__init__(config)
        self._on_started = on_started

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started and self.servers:
            host, port = self.servers[0].sockets[0].getsockname()[:2]
            shown = f"[{host}]" if ":" in str(host) else str(host)
            self._on_started(f"http://{shown}:{port}")


def serve(
    config: MockConfig,
    *,
    port: int,
    workers: int = 1,
    log_level: str = "warning",
    on_started: Callable[[str], None] = lambda url: None,
) -> None:
    """Run until SIGINT/SIGTERM, then shut down cleanly (lifespan stops the scheduler)."""
    freeze_survivors()
    settings: dict[str, Any] = {
        "host": config.host,
        "port": port,
        "log_level": log_level,
        "access_log": False,
        "lifespan": "on",
        "server_header": False,
        "ws": "none",  # no websockets to serve: their modules stay unimported (~5 ms of start-up)
    }
    if workers > 1:
        os.environ[CONFIG_ENV] = config_to_env(config)
        on_started(f"http://{config.host}:{port}")
        with contextlib.suppress(KeyboardInterrupt):
            uvicorn.run(FACTORY, factory=True, workers=workers, **settings)
        return
    server = _Server(uvicorn.Config(create_app(config), **settings), on_started)
    # uvicorn re-raises the SIGINT it handled once shut down; Ctrl-C is the normal way to stop.
    with contextlib.suppress(KeyboardInterrupt):
        server.run()
    if not server.started:
        sys.exit(1)
