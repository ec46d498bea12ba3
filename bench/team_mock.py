"""Two mock replicas on PostgreSQL against one process on SQLite: list, get, create at c=50.

A team's shared mock (docs/guides/team-mock.md) against a developer's (not a test). Servers, run
one after another, each `lenz-contract mock` with one uvicorn worker (uvloop + httptools):

- SQLite: one process, `--state FILE`;
- PostgreSQL, one process: `--state postgresql://...`;
- PostgreSQL, two replicas on different ports: the load split evenly between them, as a load
  balancer would (two wrk processes at c=25 each, at the same time; req/s added, the worse
  replica's p50/p99 shown).

PostgreSQL is a throwaway cluster (`initdb` in a temporary folder, loopback port) with its
default durability (fsync on, synchronous commit): a create is on disk before its 201. wrk,
the servers and PostgreSQL share the machine's cores.

    .venv/bin/python bench/team_mock.py [--duration 5]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import compare_mock  # noqa: E402
from compare_mock import TOKEN, Load, free_port, running, wrk  # noqa: E402

OPERATIONS = ("list", "get", "create")
CONCURRENCY = 50


def command(port: int, state: str) -> list[str]:
    lenz = str(Path(sys.executable).with_name("lenz-contract"))
    return [lenz, "mock", "--port", str(port), "--token", f"{TOKEN}=user-bench", "--state", state]


def drive(bases: list[str], duration: float) -> dict[str, Load]:
    """Each operation at c=50 in all, split evenly over `bases`, all at once."""
    out: dict[str, Load] = {}
    share = CONCURRENCY // len(bases)
    for name in OPERATIONS:
        method, path, body = compare_mock.OPERATIONS[name]
        with concurrent.futures.ThreadPoolExecutor(len(bases)) as pool:
            running_loads = [
                pool.submit(wrk, base + path, method, body, share, duration) for base in bases
            ]
            loads = [future.result() for future in running_loads]
        out[name] = Load(
            rps=sum(load.rps for load in loads),
            p50_ms=max(load.p50_ms for load in loads),
            p99_ms=max(load.p99_ms for load in loads),
            errors=sum(load.errors for load in loads),
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=5, help="seconds per load (default 5)")
    args = parser.parse_args()
    compare_mock.ensure_wrk()
    from tests.support.postgres import SETTINGS, Cluster

    results: dict[str, dict[str, Load]] = {}
    with tempfile.TemporaryDirectory() as folder:
        port = free_port()
        sqlite = str(Path(folder) / "team.sqlite")
        with running(command(port, sqlite), port, "/api/workflows") as (base, _, _):
            results["SQLite, 1 process"] = drive([base], args.duration)
        cluster = Cluster.create(settings=SETTINGS)
        try:
            url = cluster.new_database("one")
            port = free_port()
            with running(command(port, url), port, "/api/workflows") as (base, _, _):
                results["PostgreSQL, 1 process"] = drive([base], args.duration)
            url = cluster.new_database("two")
            with ExitStack() as stack:
                bases = []
                for _ in range(2):
                    port = free_port()
                    started = running(command(port, url), port, "/api/workflows")
                    bases.append(stack.enter_context(started)[0])
                results["PostgreSQL, 2 replicas"] = drive(bases, args.duration)
        finally:
            cluster.remove()
    names = list(results)
    print(
        f"\n### Team mock: list, get and create at c={CONCURRENCY} (wrk, {args.duration} s each)\n"
    )
    print("| operation | " + " | ".join(f"{n} req/s (p50/p99 ms)" for n in names) + " |")
    print("|---|" + "---|" * len(names))
    for op in OPERATIONS:
        cells = []
        for name in names:
            load = results[name][op]
            flag = f" ({load.errors} non-2xx)" if load.errors else ""
            cells.append(f"{load.rps:,.0f} ({load.p50_ms:.2f}/{load.p99_ms:.2f}){flag}")
        print(f"| {op} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
