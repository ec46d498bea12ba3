"""The server process's garbage collector: survivors of a full collection are frozen.

Why: the memory store holds every workflow as Python dicts and lists. CPython's full collection
walks every tracked object, and runs again each time the heap grew by a quarter, so a mock
under a stream of creates paused for 100-300 ms at tens of thousands of workflows: at c=50 the
create p99 was 103 ms with the scheduler on and 129 ms with it off, 8.4 ms with the collector
off (bench/RESULTS.md, section 6). Freezing what survived a full collection (`gc.freeze()`:
moved to a generation the collector never walks) makes each later full collection walk only
what was allocated since: create p99 12 ms.

What it costs: a reference cycle that was alive at a freeze and dies later is never collected
(objects without cycles are still freed at once, by reference counting). The mock's long-lived
cycles (modules, classes, the app) live as long as the process anyway, and its per-request
cycles are short-lived: only those in flight at one of the (logarithmically rare) freezes stay.
Installed by the server's entry points only, never by `create_app`, so tests and embedding
programs keep the collector as they have it.
"""

from __future__ import annotations

import gc
from typing import Any

_installed = False


def _freeze_after_full_collection(phase: str, info: dict[str, Any]) -> None:
    if phase == "stop" and info.get("generation") == 2:
        gc.freeze()


def freeze_survivors() -> None:
    """Install the policy in this process (once)."""
    global _installed
    if not _installed:
        gc.callbacks.append(_freeze_after_full_collection)
        _installed = True
