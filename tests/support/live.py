"""Run a real uvicorn server for a test: an ASGI app on a loopback port, in a thread.

Tests talk to it over real HTTP (httpx), as a frontend or a CI job would.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn


@contextmanager
def serve(
    app: Any, *, host: str = "127.0.0.1", timeout: float = 15.0, **config: Any
) -> Iterator[str]:
    """Serve `app` on `host`:<free port> until the block ends; yields the base URL."""
    settings = {"log_level": "warning", "access_log": False, "lifespan": "on", **config}
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=0, **settings))
    thread = threading.Thread(target=server.run, name="uvicorn-test-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("the test server failed to start")
        if time.monotonic() > deadline:
            server.should_exit = True
            raise TimeoutError("the test server did not start in time")
        time.sleep(0.01)
    sock: socket.socket = server.servers[0].sockets[0]
    port = sock.getsockname()[1]
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout)


def free_port(host: str = "127.0.0.1") -> int:
    """A port that was free a moment ago (for servers started as subprocesses)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])
