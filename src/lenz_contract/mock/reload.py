"""`--reload-spec`: rebuild routes and validators when the spec file changes.

A broken edit (bad YAML, a spec the mock cannot compile) keeps the old spec and logs why, so
someone editing the contract next to a running frontend never takes the mock down.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from ..spec import SpecError
from .runtime import SpecRuntime

if TYPE_CHECKING:
    from .state import MockState

logger = logging.getLogger(__name__)


async def reload_if_changed(state: MockState) -> bool:
    """Rebuild when the file's mtime moved; True when a new spec is now served."""
    path = state.runtime.spec.path
    if path is None:
        return False
    try:
        mtime = path.stat().st_mtime
    except OSError as exc:
        logger.warning("spec reload: cannot stat %s: %s", path, exc)
        return False
    if mtime == state.runtime.mtime:
        return False
    try:
        runtime = await asyncio.to_thread(_build_checked, path)
    except Exception as exc:
        logger.error("spec reload: %s is broken, keeping the previous spec: %s", path, exc)
        state.runtime.mtime = mtime  # report a broken edit once, not every second
        return False
    state.swap_runtime(runtime)
    logger.warning("spec reload: now serving %s (%d operations)", path, len(runtime.plans))
    return True


def _build_checked(path: Path) -> SpecRuntime:
    """Load, check (as `lenz-contract spec validate` does) and compile; raises when unusable."""
    from ..spec.checks import check_document  # slow to import: only when a reload happens

    runtime = SpecRuntime.load(path, compile_all=True)
    problems = check_document(runtime.spec.document)
    if problems:
        raise SpecError(problems)
    return runtime


async def watch_spec(state: MockState, interval: float = 1.0) -> None:
    while True:
        await asyncio.sleep(interval)
        try:
            await reload_if_changed(state)
        except Exception:  # the watcher must outlive any surprise
            logger.exception("spec reload failed")
