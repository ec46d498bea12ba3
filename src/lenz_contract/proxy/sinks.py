"""Where violations go as they happen: a line on the console, a line in the JSONL log.

Both write already-redacted `Violation`s, one line each, and flush per line so `tail -f` and a
CI job reading the log after the run see every record.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TextIO

from .violations import Violation


class ConsoleSink:
    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, violation: Violation) -> None:
        try:
            self.stream.write(violation.console_line() + "\n")
            self.stream.flush()
        except (OSError, ValueError):  # a closed terminal must not break the proxy
            pass

    def note(self, line: str) -> None:
        try:
            self.stream.write(line + "\n")
            self.stream.flush()
        except (OSError, ValueError):
            pass

    def close(self) -> None:
        pass


class JsonlSink:
    """Appends one JSON object per line; the file is opened once, at startup."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._handle: TextIO | None = path.open("a", encoding="utf-8")

    def write(self, violation: Violation) -> None:
        if self._handle is None:
            return
        self._handle.write(json.dumps(violation.to_json(), ensure_ascii=False) + "\n")
        self._handle.flush()

    def note(self, line: str) -> None:
        """Upstream and internal errors go to the console only: the log holds violations."""

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None
