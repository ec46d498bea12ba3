"""What one scheduler check costs at 100,000 scheduled workflows, per store (not a test).

The check the server runs every second, in-process: `Namespaces.run_due()` (one look at every
namespace's earliest due time, then the due index of those whose time came) with nothing due,
and the scan it replaced (`Scheduler(list_workflows=store.scheduled_workflows)`: every
scheduled workflow read and checked each second), on the memory store, a SQLite file and a
PostgreSQL database (a throwaway cluster, default durability settings). Then a check with 1% of
the workflows due (a tick at 07:00 for one workflow in a hundred).

    .venv/bin/python bench/scheduler_tick.py [--size 100000] [--stores memory,sqlite,postgres]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from lenz_contract.mock.clock import MockClock  # noqa: E402
from lenz_contract.mock.config import MockConfig  # noqa: E402
from lenz_contract.mock.schedule import Scheduler  # noqa: E402
from lenz_contract.mock.state import MockState  # noqa: E402
from lenz_contract.mock.store import CLOCK_OFFSET_KEY, Snapshot  # noqa: E402

NOW = datetime(2025, 4, 30, 6, 30, tzinfo=UTC)


def workflow(i: int, cron: str) -> dict[str, Any]:
    return {
        "id": f"wf-{i:07d}",
        "name": f"Laporan {i:06d}",
        "description": "",
        "is_active": True,
        "trigger_node": {"type": "schedule", "config": {"cron": cron}},
        "nodes": [],
        "created_at": "2025-01-01T00:00:00Z",
        "updated_at": None,
    }


def state_for(store: str, folder: Path) -> tuple[MockState, Any]:
    cluster = None
    config = MockConfig(seed=False, scheduler=False, clock=MockClock.frozen(NOW))
    if store == "sqlite":
        config.state_path = folder / "tick.sqlite"
    if store == "postgres":
        from tests.support.postgres import SETTINGS, Cluster

        cluster = Cluster.create(settings=SETTINGS)
        config.database_url = cluster.new_database("tick")
    return MockState(config), cluster


def ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:.2f}"


def measure(store: str, size: int, folder: Path) -> dict[str, str]:
    state, cluster = state_for(store, folder)
    try:
        # every 100th workflow fires at 06:31:00, the others daily at 07:00
        workflows = [
            workflow(i, "0 31 6 * * *" if i % 100 == 0 else "0 0 7 * * *") for i in range(size)
        ]
        started = time.perf_counter()
        state.service.import_state(Snapshot(workflows))
        load = time.perf_counter() - started
        clock = state.service.clock

        def move(seconds: float) -> None:
            """As another replica's clock move would: the offset is in the store."""
            clock.advance(seconds)
            state.store.set_meta(CLOCK_OFFSET_KEY, repr(clock.offset.total_seconds()))

        idle = []
        for _ in range(20):
            move(1)
            began = time.perf_counter()
            fired = state.namespaces.run_due()
            idle.append(time.perf_counter() - began)
            assert fired == 0
        scan = Scheduler(
            clock=clock.now,
            list_workflows=state.store.scheduled_workflows,
            fire=lambda workflow_id, fire_time: None,
        )
        scans = []
        for _ in range(3):
            move(1)
            began = time.perf_counter()
            scan.run_due()
            scans.append(time.perf_counter() - began)
        move((NOW + timedelta(minutes=1) - clock.now()).total_seconds())
        began = time.perf_counter()
        state.namespaces.run_due()
        due = time.perf_counter() - began
        page = state.store.list_executions("wf-0000000", 0, 10)
        assert page is not None and page.total == 1, page
        return {
            "load s": f"{load:.1f}",
            "check, nothing due (ms, median of 20)": ms(idle),
            "scan it replaced (ms, median of 3)": ms(scans),
            f"check with {size // 100:,} due (ms)": f"{due * 1000:.0f}",
        }
    finally:
        state.close()
        if cluster is not None:
            cluster.remove()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--stores", default="memory,sqlite,postgres")
    args = parser.parse_args()
    rows = {}
    with tempfile.TemporaryDirectory() as folder:
        for store in args.stores.split(","):
            rows[store] = measure(store, args.size, Path(folder))
            print(store, rows[store], file=sys.stderr)
    columns = list(next(iter(rows.values())))
    print(f"\n### Scheduler check at {args.size:,} scheduled workflows (in-process)\n")
    print("| store | " + " | ".join(columns) + " |")
    print("|---|" + "---:|" * len(columns))
    for store, row in rows.items():
        print(f"| {store} | " + " | ".join(row[c] for c in columns) + " |")


if __name__ == "__main__":
    main()
