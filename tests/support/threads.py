"""Work started at the same moment in several threads, as parallel CI jobs or replicas would."""

from __future__ import annotations

import threading
from collections.abc import Callable


def run_together(work: Callable[[int], None], count: int, timeout: float = 120) -> None:
    """`work(0)` … `work(count - 1)`, each in its own thread, all started before any is
    awaited; fails with every exception they raised (an assertion in a thread included)."""
    failures: list[BaseException] = []

    def guarded(number: int) -> None:
        try:
            work(number)
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=guarded, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    assert not any(t.is_alive() for t in threads), f"a thread still runs after {timeout} s"
    assert not failures, failures
