"""How the mock scales: 1k, 10k and 100k workflows with 10 executions each (re-runnable; not a test).

For each store (memory, and `--state` = SqliteStore) and size, a uvicorn **subprocess** serves the
mock exactly as `lenz-contract mock` builds it (`create_app`, one worker, uvloop + httptools,
background scheduler on unless `--no-scheduler`). Its state is loaded through the store's API,
not over HTTP: the memory store is filled inside the server process (`insert_workflow` /
`add_execution`), the SQLite file is built beforehand by another process (`restore_once`, one
transaction). The queries then go over real HTTP on loopback, one keep-alive connection, one
request at a time (so a latency includes ~0.1-0.2 ms of client and HTTP overhead):

- search: `GET /api/workflows?search=grp-NN`, each term matching 1% of the names. "cold" rotates
  100 terms (the memory store caches 32 searches, SQLite 32 counts: every request scans); "warm"
  repeats one term (what a frontend paging or polling one search does).
- list: `GET /api/workflows?page=1`, and a page in the middle of the list.
- get: `GET /api/workflows/{random id}`; logs: `GET /api/workflows/{random id}/logs?page=1`.
- RSS: VmRSS of the server process after the queries, and its peak (VmHWM).

    .venv/bin/python bench/scale.py                        # 1k, 10k, 100k; both stores
    .venv/bin/python bench/scale.py --sizes 1000,10000 --stores memory
    .venv/bin/python bench/scale.py --profile 100000       # py-spy the cold search (needs py-spy)

Prints Markdown: the measurements, the growth from size to size, and the issue's targets.
About 4 minutes on 2 cores (loading 1M executions is most of it).

Measured 2026-11 on 2 shared cores, at 100k workflows / 1M executions (runs vary ±50%):
get, list page 1, warm search and logs pages stay flat (0.3-1 ms, mostly HTTP) from 1k to 100k
on both stores. A cold search is O(n): the memory store scans every name in Python (46-95 ms;
py-spy: 98% in `MemoryStore._search`), SQLite counts with `instr` over the whole index (21-65 ms;
`SqliteStore._count`). A deep page is O(offset) on SQLite (OFFSET walks the index, ~6 ms).
The memory store holds ~2.3 KB of Python objects per execution (2.3 GB RSS); SQLite ~200 MB.
The background scheduler still reads and checks every workflow each second (memory ~1.5 s,
SQLite ~3.5 s per check at 100k): at that size it runs non-stop, which raises p99s and SQLite's
peak RSS (it materialises every workflow body). `--no-scheduler` shows the query paths alone.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import gc
import http.client
import itertools
import json
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TOKEN = "lenz-mock-token"
HEADERS = {"Authorization": f"Bearer {TOKEN}"}
LOGS_PER_WORKFLOW = 10
GROUPS = 100  # search terms grp-00 … grp-99, each in 1% of the names
EPOCH = 1_735_689_600  # 2025-01-01T00:00:00Z
TARGETS = {"search p50": 20.0, "logs p50": 10.0, "rss": 400.0}  # ms, ms, MB at 100k / 1M


# --- the data ----------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1024)
def _day(days: int) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(EPOCH + days * 86400))


def stamp(seconds: int) -> str:
    """RFC 3339 UTC, `seconds` after 2025-01-01 (the loader calls it millions of times)."""
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    return f"{_day(days)}T{hours:02d}:{rest // 60:02d}:{rest % 60:02d}Z"


def workflow(i: int) -> dict[str, Any]:
    """The docs' workflow (daily 07:00 schedule, export then Telegram), fresh objects each time."""
    return {
        "id": f"wf-{i:07d}",
        "name": f"Laporan Harian FR {i:06d} grp-{i % GROUPS:02d}",
        "description": "Ekspor riwayat Face Recognition setiap pagi lalu kirim via Telegram",
        "is_active": True,
        "trigger_node": {"type": "schedule", "config": {"cron": "0 0 7 * * *"}},
        "nodes": [
            {
                "id": "node-export",
                "type": "event_history_export",
                "name": "Ekspor Riwayat FR Kemarin",
                "config": {"analytic_type": "FR", "date_range": "yesterday", "format": "csv"},
            },
            {
                "id": "node-telegram",
                "type": "telegram_send_attachment",
                "name": "Kirim Laporan ke Telegram",
                "config": {
                    "credential_id": "cred-tg-001",
                    "file": "{{prev.body.file_url}}",
                    "caption": "Laporan FR harian — {{prev.body.date}}",
                },
            },
        ],
        "created_at": stamp(i),
        "updated_at": None,
    }


def execution(i: int, j: int) -> dict[str, Any]:
    """The docs' execution of that workflow (two node results), fresh objects each time."""
    start = 10_000_000 + i * LOGS_PER_WORKFLOW + j
    return {
        "id": f"exec-{i:07d}-{j:02d}",
        "workflow_id": f"wf-{i:07d}",
        "trigger_type": "manual",
        "status": "success",
        "started_at": stamp(start),
        "finished_at": stamp(start + 5),
        "node_results": [
            {
                "node_id": "node-export",
                "node_type": "event_history_export",
                "node_name": "Ekspor Riwayat FR Kemarin",
                "status": "success",
                "started_at": stamp(start),
                "finished_at": stamp(start + 3),
                "output": {"file_url": f"/exports/fr/{i}-{j}.csv", "date": "2025-04-29"},
                "error": None,
            },
            {
                "node_id": "node-telegram",
                "node_type": "telegram_send_attachment",
                "node_name": "Kirim Laporan ke Telegram",
                "status": "success",
                "started_at": stamp(start + 3),
                "finished_at": stamp(start + 5),
                "output": {"message_id": j},
                "error": None,
            },
        ],
        "error": None,
        "triggered_by": "user-alfin",
    }


def build_sqlite(path: Path, size: int) -> None:
    """Child process: the whole state in one `restore_once` transaction (what a seed does)."""
    from lenz_contract.mock.sqlite_store import SqliteStore
    from lenz_contract.mock.state import INITIALIZED_MARKER
    from lenz_contract.mock.store import Snapshot

    snapshot = Snapshot(
        [workflow(i) for i in range(size)],
        [execution(i, j) for i in range(size) for j in range(LOGS_PER_WORKFLOW)],
    )
    store = SqliteStore(path)
    store.restore_once(snapshot, INITIALIZED_MARKER)
    store.close()


def serve(port: int, size: int, state: Path | None, scheduler: bool) -> None:
    """Child process: the mock as the CLI builds it, memory store filled through its API."""
    import uvicorn

    from lenz_contract.mock import create_app
    from lenz_contract.mock.config import MockConfig

    app = create_app(MockConfig(state_path=state, seed=False, scheduler=scheduler))
    store = app.state.mock.store
    if state is None:
        for i in range(size):
            store.insert_workflow(workflow(i))
            for j in range(LOGS_PER_WORKFLOW):
                store.add_execution(execution(i, j))
        gc.collect()
    settings: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": port,
        "log_level": "warning",
        "access_log": False,
        "lifespan": "on",
        "server_header": False,
    }
    uvicorn.run(app, **settings)


# --- the measuring side ----------------------------------------------------------------------


@dataclass
class Row:
    store: str
    size: int
    load_s: float
    ms: dict[str, float] = field(default_factory=dict)
    rss_mb: float = 0.0
    peak_mb: float = 0.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def memory_mb(pid: int) -> tuple[float, float]:
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


@contextlib.contextmanager
def server(
    size: int, state: Path | None, scheduler: bool
) -> Iterator[tuple[subprocess.Popen[bytes], int, float]]:
    """Start a serving child; yields it, its port and the seconds until it answered."""
    port = free_port()
    args = [sys.executable, __file__, "--serve", str(port), "--size", str(size)]
    args += ["--state", str(state)] if state else []
    args += [] if scheduler else ["--no-scheduler"]
    started = time.perf_counter()
    proc = subprocess.Popen(args)
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"the server exited with {proc.returncode}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                conn.request("GET", "/api/workflows?limit=1", headers=HEADERS)
                if conn.getresponse().status == 200:
                    conn.close()
                    break
            except OSError:
                time.sleep(0.2)
        yield proc, port, time.perf_counter() - started
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def timed(conn: http.client.HTTPConnection, path: str) -> float:
    """Milliseconds for one request, answer read to the end (asserting it is a 200)."""
    started = time.perf_counter()
    conn.request("GET", path, headers=HEADERS)
    answer = conn.getresponse()
    body = answer.read()
    took = (time.perf_counter() - started) * 1000
    if answer.status != 200:
        raise RuntimeError(f"GET {path} answered {answer.status}: {body[:200]!r}")
    return took


def sample(
    conn: http.client.HTTPConnection, paths: Callable[[int], str], count: int
) -> list[float]:
    for k in range(5):  # warm-up: connection, first-request costs
        timed(conn, paths(k))
    return [timed(conn, paths(k)) for k in range(count)]


def p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def measure(port: int, size: int, count: int) -> dict[str, float]:
    rng = random.Random(size)
    ids = [f"wf-{rng.randrange(size):07d}" for _ in range(count + 5)]
    middle = max(1, size // 10 // 2)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        # Guard the numbers: the server holds the whole state and a term matches 1% of it.
        for path, expected in (
            ("/api/workflows", size),
            ("/api/workflows?search=grp-07", size // GROUPS),
            (f"/api/workflows/{ids[0]}/logs", LOGS_PER_WORKFLOW),
        ):
            conn.request("GET", path, headers=HEADERS)
            found = json.loads(conn.getresponse().read())["total_data"]
            if found != expected:
                raise RuntimeError(f"GET {path}: total_data {found}, expected {expected}")
        cold = sample(conn, lambda k: f"/api/workflows?search=grp-{(k * 37) % GROUPS:02d}", count)
        warm = sample(conn, lambda k: "/api/workflows?search=grp-42", count)
        first = sample(conn, lambda k: "/api/workflows?page=1", count)
        mid = sample(conn, lambda k: f"/api/workflows?page={middle - k % 3}", count)
        get = sample(conn, lambda k: f"/api/workflows/{ids[k]}", count)
        logs = sample(conn, lambda k: f"/api/workflows/{ids[k]}/logs?page=1", count)
    finally:
        conn.close()
    return {
        "search p50": statistics.median(cold),
        "search p99": p(cold, 99),
        "search warm p50": statistics.median(warm),
        "list p50": statistics.median(first),
        "list mid p50": statistics.median(mid),
        "get p50": statistics.median(get),
        "logs p50": statistics.median(logs),
    }


def run(store: str, size: int, count: int, scheduler: bool, workdir: Path) -> Row:
    state = None
    build_s = 0.0
    if store == "sqlite":
        state = workdir / f"scale-{size}.sqlite"
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, __file__, "--build", str(state), "--size", str(size)], check=True
        )
        build_s = time.perf_counter() - started
    with server(size, state, scheduler) as (proc, port, ready_s):
        if scheduler:
            time.sleep(2)  # let the scheduler's first check (every workflow once) pass
        row = Row(store, size, build_s + ready_s, measure(port, size, count))
        row.rss_mb, row.peak_mb = memory_mb(proc.pid)
    if state is not None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{state}{suffix}").unlink(missing_ok=True)
    return row


# --- the report ----------------------------------------------------------------------------------

COLUMNS = [
    "search p50",
    "search p99",
    "search warm p50",
    "list p50",
    "list mid p50",
    "get p50",
    "logs p50",
]


def growth(small: float, large: float) -> str:
    """The ratio over a 10x larger state, read as a complexity (fixed HTTP costs flatten it)."""
    ratio = large / small if small > 0 else float("inf")
    if ratio < 1.5:
        label = "flat: O(1)/O(log n)"
    elif ratio < 4:
        label = "sub-linear"
    else:
        label = "≈ O(n)"
    return f"×{ratio:.1f} {label}"


def report(rows: list[Row], scheduler: bool) -> None:
    print(f"\n### Mock at scale ({LOGS_PER_WORKFLOW} executions per workflow; uvicorn subprocess,")
    print(f"HTTP on loopback, one connection; scheduler {'on' if scheduler else 'off'}; ms)\n")
    print(
        "| store | workflows | executions | load s | "
        + " | ".join(COLUMNS)
        + " | RSS MB | peak MB |"
    )
    print("|---|---:|---:|---:|" + "---:|" * len(COLUMNS) + "---:|---:|")
    for r in rows:
        cells = " | ".join(f"{r.ms[c]:.2f}" for c in COLUMNS)
        print(
            f"| {r.store} | {r.size:,} | {r.size * LOGS_PER_WORKFLOW:,} | {r.load_s:.1f} | {cells} "
            f"| {r.rss_mb:.0f} | {r.peak_mb:.0f} |"
        )
    by = {(r.store, r.size): r for r in rows}
    sizes = sorted({r.size for r in rows})
    steps = list(itertools.pairwise(sizes))
    if steps:
        print("\n### Growth per 10x (p50 ratio)\n")
        print("| store | step | " + " | ".join(c for c in COLUMNS if "p99" not in c) + " |")
        print("|---|---|" + "---|" * (len(COLUMNS) - 1))
        for store in sorted({r.store for r in rows}):
            for small, large in steps:
                if (store, small) in by and (store, large) in by:
                    a, b = by[(store, small)], by[(store, large)]
                    cells = " | ".join(growth(a.ms[c], b.ms[c]) for c in COLUMNS if "p99" not in c)
                    print(f"| {store} | {small:,} → {large:,} | {cells} |")
    if 100_000 in sizes:
        print("\n### Targets at 100k workflows / 1M executions\n")
        print("| store | search p50 < 20 ms | logs p50 < 10 ms | RSS < 400 MB |")
        print("|---|---|---|---|")
        for store in sorted({r.store for r in rows}):
            r = by.get((store, 100_000))
            if r is None:
                continue
            verdicts = [
                (r.ms["search p50"], TARGETS["search p50"], "ms"),
                (r.ms["logs p50"], TARGETS["logs p50"], "ms"),
                (r.rss_mb, TARGETS["rss"], "MB"),
            ]
            cells = " | ".join(
                f"{'met' if v < t else '**missed**'} ({v:.1f} {unit})" for v, t, unit in verdicts
            )
            print(f"| {store} | {cells} |")


def profile(size: int, store: str, scheduler: bool, count: int, workdir: Path) -> None:
    """py-spy the server while it answers `count` cold searches; print where the time goes."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(spy).exists():
        raise SystemExit("py-spy is not installed: .venv/bin/pip install py-spy")
    state = None
    if store == "sqlite":
        state = workdir / f"profile-{size}.sqlite"
        subprocess.run(
            [sys.executable, __file__, "--build", str(state), "--size", str(size)], check=True
        )
    out = Path(tempfile.gettempdir()) / f"lenz-scale-profile-{store}-{size}.txt"  # kept
    with server(size, state, scheduler) as (proc, port, _):
        time.sleep(2)
        command = [spy, "record", "--pid", str(proc.pid), "--format", "raw", "-o", str(out)]
        spying = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        took = sample(conn, lambda k: f"/api/workflows?search=grp-{(k * 37) % GROUPS:02d}", count)
        conn.close()
        spying.send_signal(signal.SIGINT)
        spying.wait(60)
    stacks = [line.rpartition(" ") for line in out.read_text().splitlines() if line.strip()]
    total = sum(int(n) for _, _, n in stacks) or 1
    inclusive: dict[str, int] = {}
    leaf: dict[str, int] = {}
    for frames, _, n in stacks:
        names = frames.split(";")
        leaf[names[-1]] = leaf.get(names[-1], 0) + int(n)
        for name in set(names):
            inclusive[name] = inclusive.get(name, 0) + int(n)
    print(f"\n### py-spy: {store} server, {size:,} workflows, {count} cold searches")
    print(f"(p50 {statistics.median(took):.2f} ms; {total} samples; raw stacks in {out})\n")
    print("| inclusive | frame |\n|---:|---|")
    plumbing = (
        "uvicorn/",
        "asyncio/",
        "starlette/",
        "threading",
        "concurrent/",
        "scale.py",
        "<module>",
    )
    ours = {k: v for k, v in inclusive.items() if not any(p in k for p in plumbing)}
    for name, n in sorted(ours.items(), key=lambda kv: -kv[1])[:12]:
        print(f"| {100 * n / total:.0f}% | `{name}` |")
    print("\n| self | frame |\n|---:|---|")
    for name, n in sorted(leaf.items(), key=lambda kv: -kv[1])[:8]:
        print(f"| {100 * n / total:.0f}% | `{name}` |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", default="1000,10000,100000", help="workflow counts, comma-separated"
    )
    parser.add_argument("--stores", default="memory,sqlite")
    parser.add_argument("--samples", type=int, default=200, help="requests per measurement")
    parser.add_argument("--no-scheduler", action="store_true", help="serve without the scheduler")
    parser.add_argument("--profile", type=int, metavar="SIZE", help="py-spy one size instead")
    parser.add_argument("--serve", type=int, metavar="PORT", help=argparse.SUPPRESS)
    parser.add_argument("--build", type=Path, metavar="FILE", help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--state", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.size, args.state, not args.no_scheduler)
        return
    if args.build:
        build_sqlite(args.build, args.size)
        return
    stores = [s.strip() for s in args.stores.split(",") if s.strip()]
    with tempfile.TemporaryDirectory(prefix="lenz-scale-") as tmp:
        if args.profile:
            for store in stores:
                profile(args.profile, store, not args.no_scheduler, args.samples, Path(tmp))
            return
        rows = []
        started = time.perf_counter()
        for store in stores:
            for size in (int(s) for s in args.sizes.split(",")):
                rows.append(run(store, size, args.samples, not args.no_scheduler, Path(tmp)))
                r = rows[-1]
                print(
                    f"{store} {size:,}: loaded in {r.load_s:.1f} s, search p50 "
                    f"{r.ms['search p50']:.2f} ms, RSS {r.rss_mb:.0f} MB",
                    file=sys.stderr,
                )
        report(rows, not args.no_scheduler)
        print(f"\n(total {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
