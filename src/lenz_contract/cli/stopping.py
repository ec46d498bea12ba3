"""Stop a server on SIGTERM exactly as on Ctrl-C (exit 0 and a "... stopped" line).

uvicorn shuts down gracefully on SIGINT and SIGTERM, then raises the signal again with the
handler it found. For SIGINT that is Python's KeyboardInterrupt, which the commands catch;
for SIGTERM it is the default action, which kills the process (status -15, nothing printed),
so `docker stop`, systemd or a CI job's cleanup saw a crash where Ctrl-C saw a clean stop.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


@contextmanager
def sigterm_as_ctrl_c() -> Iterator[None]:
    """While the block runs, SIGTERM raises KeyboardInterrupt, so it ends the way Ctrl-C does.

    uvicorn replaces the handler while it serves and calls it once it has shut down; a SIGTERM
    before it serves interrupts the startup, as Ctrl-C would.
    """
    if threading.current_thread() is not threading.main_thread():  # only it can set handlers
        yield
        return
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
