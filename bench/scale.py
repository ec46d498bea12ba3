"""The mock at 100k workflows and a million runs, its start-up, and list/get under load (not a test).

Three measurements, side by side in one run, printed as Markdown tables with ratios:

1. Scale, per store (memory, `--state FILE` = SqliteStore, and `--stores postgres`: a
   PostgreSQL database of a throwaway cluster, default durability) and size (default 100,000 workflows
   with 10 runs each: 1,000,000 runs). A uvicorn **subprocess** serves the mock exactly as
   `lenz-contract mock` builds it (`create_app`, one worker, uvloop + httptools, background
   scheduler on unless `--no-scheduler`). Its state is loaded through the store's API, not over
   HTTP: the memory store is filled inside the server process (`insert_workflow` /
   `add_execution`), the SQLite file is built beforehand by another process (`restore_once`,
   one transaction). Then, over real HTTP on loopback, one keep-alive connection, one request
   at a time, 5 ms apart (a latency includes ~0.1-0.2 ms of client and HTTP), p50 and p99 of:
   - search: `GET /api/workflows?search=grp-NN`, each term in 1% of the names; "cold" rotates
     100 terms (more than either store caches), "warm" repeats one;
   - list: page 1, and a page in the middle; get: a random id; logs: page 1 of a random
     workflow's runs; create: `POST /api/workflows` with the docs' body (last: it writes);
   - RSS of the server: at rest (loaded, before the queries), after them, and the peak (VmHWM).
2. Start-up to first answer: `lenz-contract mock` against bare Starlette (`uvicorn` serving a
   three-route app), started alternately, `--startup-trials` times each, the time from spawning
   the process to the first 200 of `GET /api/workflows`. Both run with the bytecode cache on
   (a temporary `PYTHONPYCACHEPREFIX`, as an installed package has its .pyc files) and the mock
   with its spec cache in a temporary folder; the first start of each (no .pyc, no spec cache)
   is reported apart.
3. List and get at c=50 (wrk, one thread): the mock (memory store, docs seed), bare Starlette
   serving the very bytes the mock answered, and Prism 5 (`bench/compare_mock.py` installs and
   runs it with npm, and wrk with apt: this reuses it).

    .venv/bin/python bench/scale.py                  # everything, 100k / 1M, ~10 minutes
    .venv/bin/python bench/scale.py --quick          # 2k workflows / 20k runs, ~2 minutes
    .venv/bin/python bench/scale.py --sizes 1000,10000,100000 --stores memory --skip compare
    .venv/bin/python bench/scale.py --profile 100000 # py-spy a cold search (needs py-spy)

Results of a run, with the machine, are in bench/RESULTS.md (section 3).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import gc
import http.client
import itertools
import json
import os
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

import compare_mock

TOKEN = "lenz-mock-token"
HEADERS = {"Authorization": f"Bearer {TOKEN}"}
JSON_HEADERS = {**HEADERS, "Content-Type": "application/json"}
LOGS_PER_WORKFLOW = 10
GROUPS = 100  # search terms grp-00 … grp-99, each in 1% of the names
EPOCH = 1_735_689_600  # 2025-01-01T00:00:00Z
CREATE_BODY = compare_mock.CREATE_BODY.encode()


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


def build_sqlite(path: str, size: int) -> None:
    """Child process: the whole state in one `restore_once` transaction (what a seed does);
    `path` is a SQLite file or a PostgreSQL URL (then COPY, then VACUUM ANALYZE)."""
    from lenz_contract.mock.database_url import is_database_url
    from lenz_contract.mock.sqlite_store import SqliteStore
    from lenz_contract.mock.state import INITIALIZED_MARKER
    from lenz_contract.mock.store import Snapshot

    snapshot = Snapshot(
        [workflow(i) for i in range(size)],
        [execution(i, j) for i in range(size) for j in range(LOGS_PER_WORKFLOW)],
    )
    if is_database_url(path):
        import psycopg

        from lenz_contract.mock.postgres_store import PostgresStore

        database = PostgresStore(path)
        database.restore_once(snapshot, INITIALIZED_MARKER)
        database.close()
        with psycopg.connect(path, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")  # visibility map and statistics, as autovacuum would
        return
    store = SqliteStore(path)
    store.restore_once(snapshot, INITIALIZED_MARKER)
    store.close()


def serve(port: int, size: int, state: str | None, scheduler: bool) -> None:
    """Child process: the mock as the CLI builds it, memory store filled through its API."""
    import uvicorn

    from lenz_contract.mock import create_app
    from lenz_contract.mock.config import MockConfig
    from lenz_contract.mock.database_url import is_database_url
    from lenz_contract.mock.gc_policy import freeze_survivors

    freeze_survivors()  # as `lenz-contract mock` runs
    url = state if state is not None and is_database_url(state) else None
    path = Path(state) if state is not None and url is None else None
    app = create_app(MockConfig(state_path=path, database_url=url, seed=False, scheduler=scheduler))
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


# --- 1. scale ----------------------------------------------------------------------------------


@dataclass
class Row:
    store: str
    size: int
    load_s: float
    ms: dict[str, float] = field(default_factory=dict)
    rest_mb: float = 0.0
    after_mb: float = 0.0
    peak_mb: float = 0.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def memory_mb(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) of `pid` in MB."""
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


@contextlib.contextmanager
def server(
    size: int, state: Path | str | None, scheduler: bool
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


def timed(conn: http.client.HTTPConnection, path: str, body: bytes | None = None) -> float:
    """Milliseconds for one request, answer read to the end (asserting it is a 2xx)."""
    started = time.perf_counter()
    if body is None:
        conn.request("GET", path, headers=HEADERS)
    else:
        conn.request("POST", path, body=body, headers=JSON_HEADERS)
    answer = conn.getresponse()
    payload = answer.read()
    took = (time.perf_counter() - started) * 1000
    if answer.status // 100 != 2:
        raise RuntimeError(f"{path} answered {answer.status}: {payload[:200]!r}")
    return took


PACE_S = 0.005
"""Pause between two measured requests: 200 samples then span seconds, so that p99 also sees
the background scheduler's checks (each second), not only the instants between two of them."""


def sample(
    conn: http.client.HTTPConnection,
    paths: Callable[[int], str],
    count: int,
    body: bytes | None = None,
) -> list[float]:
    for k in range(5):  # warm-up: connection, first-request costs
        timed(conn, paths(k), body)
    taken = []
    for k in range(count):
        taken.append(timed(conn, paths(k), body))
        time.sleep(PACE_S)
    return taken


def p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


SCALE_OPERATIONS = ["search", "search warm", "list", "list mid", "get", "logs", "create"]


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
        taken = {
            "search": sample(
                conn, lambda k: f"/api/workflows?search=grp-{(k * 37) % GROUPS:02d}", count
            ),
            "search warm": sample(conn, lambda k: "/api/workflows?search=grp-42", count),
            "list": sample(conn, lambda k: "/api/workflows?page=1", count),
            "list mid": sample(conn, lambda k: f"/api/workflows?page={middle - k % 3}", count),
            "get": sample(conn, lambda k: f"/api/workflows/{ids[k]}", count),
            "logs": sample(conn, lambda k: f"/api/workflows/{ids[k]}/logs?page=1", count),
            "create": sample(conn, lambda k: "/api/workflows", count, CREATE_BODY),
        }
    finally:
        conn.close()
    out: dict[str, float] = {}
    for name, values in taken.items():
        out[f"{name} p50"] = statistics.median(values)
        out[f"{name} p99"] = p(values, 99)
    return out


CLUSTER: Any = None
"""The throwaway PostgreSQL cluster of the `postgres` store (default durability settings)."""


def postgres_url(name: str) -> str:
    global CLUSTER
    if CLUSTER is None:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        from tests.support.postgres import SETTINGS, Cluster

        CLUSTER = Cluster.create(settings=f"{SETTINGS} -c shared_buffers=512MB")
    url: str = CLUSTER.new_database(name)
    return url


def run(store: str, size: int, count: int, scheduler: bool, workdir: Path) -> Row:
    state: Path | str | None = None
    build_s = 0.0
    if store in ("sqlite", "postgres"):
        state = workdir / f"scale-{size}.sqlite" if store == "sqlite" else postgres_url(f"s{size}")
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, __file__, "--build", str(state), "--size", str(size)], check=True
        )
        build_s = time.perf_counter() - started
    with server(size, state, scheduler) as (proc, port, ready_s):
        if scheduler:
            time.sleep(2)  # let the scheduler's first check (every workflow once) pass
        row = Row(store, size, build_s + ready_s)
        row.rest_mb = memory_mb(proc.pid)[0]
        row.ms = measure(port, size, count)
        row.after_mb, row.peak_mb = memory_mb(proc.pid)
    if isinstance(state, Path):
        for suffix in ("", "-wal", "-shm"):
            Path(f"{state}{suffix}").unlink(missing_ok=True)
    return row


# --- 2. start-up to first answer --------------------------------------------------------------


def first_answer(command: list[str], port: int, env: dict[str, str]) -> float:
    """Seconds from spawning `command` to its first 200 on `GET /api/workflows`."""
    started = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{command[0]} exited with {proc.returncode}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                conn.request("GET", "/api/workflows", headers=HEADERS)
                answer = conn.getresponse()
                answer.read()
                conn.close()
                if answer.status == 200:
                    return time.perf_counter() - started
            except OSError:
                time.sleep(0.002)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@dataclass
class Startup:
    first: dict[str, float] = field(default_factory=dict)
    """The very first start of each (no bytecode cache, no spec cache)."""
    warm: dict[str, list[float]] = field(default_factory=dict)


def startup(trials: int, workdir: Path) -> Startup:
    """Mock and bare Starlette started alternately; see the module (2.)."""
    lenz = str(Path(sys.executable).with_name("lenz-contract"))
    bare_dir = workdir / "bare"
    bare_dir.mkdir(exist_ok=True)
    (bare_dir / "bare.py").write_text(compare_mock.BARE_APP)
    (bare_dir / "bodies.json").write_text(
        json.dumps({name: [200, "{}"] for name in compare_mock.OPERATIONS})
    )
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(workdir / "pycache")
    env["LENZ_CONTRACT_CACHE"] = str(workdir / "spec-cache")
    env["BARE_BODIES"] = str(bare_dir / "bodies.json")

    def mock(port: int) -> list[str]:
        return [lenz, "mock", "--port", str(port), "--log-level", "warning"]

    def bare(port: int) -> list[str]:
        app = ["-m", "uvicorn", "--app-dir", str(bare_dir), "bare:app", "--port", str(port)]
        return [sys.executable, *app, "--log-level", "warning", "--no-access-log"]

    commands = {"mock": mock, "bare Starlette": bare}
    result = Startup()
    for name, command in commands.items():
        port = free_port()
        result.first[name] = first_answer(command(port), port, env)
        result.warm[name] = []
    for _ in range(trials):
        for name, command in commands.items():
            port = free_port()
            result.warm[name].append(first_answer(command(port), port, env))
    return result


# --- 3. list and get at c=50 ------------------------------------------------------------------

LOAD_OPERATIONS = ("list", "get")
CONCURRENCY = 50


def under_load(duration: float, prism: bool) -> dict[str, dict[str, compare_mock.Load]]:
    """wrk at c=50 on list and get: the mock, bare Starlette (same bytes), Prism 5."""
    compare_mock.ensure_wrk()
    lenz = str(Path(sys.executable).with_name("lenz-contract"))
    results: dict[str, dict[str, compare_mock.Load]] = {}

    def drive(base: str) -> dict[str, compare_mock.Load]:
        out = {}
        for name in LOAD_OPERATIONS:
            method, path, body = compare_mock.OPERATIONS[name]
            out[name] = compare_mock.wrk(base + path, method, body, CONCURRENCY, duration)
        return out

    port = free_port()
    mock = [lenz, "mock", "--port", str(port), "--token", f"{compare_mock.TOKEN}=user-bench"]
    with compare_mock.running([*mock, "--log-level", "warning"], port, "/api/workflows") as (
        base,
        _,
        _,
    ):
        bodies = compare_mock.capture_bodies(base)
        results["mock"] = drive(base)
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "bare.py").write_text(compare_mock.BARE_APP)
        (Path(folder) / "bodies.json").write_text(
            json.dumps({k: [s, b.decode()] for k, (s, b) in bodies.items()})
        )
        port = free_port()
        bare = [sys.executable, "-m", "uvicorn", "--app-dir", folder, "bare:app"]
        bare += ["--port", str(port), "--log-level", "warning", "--no-access-log"]
        env = {"BARE_BODIES": str(Path(folder) / "bodies.json")}
        with compare_mock.running(bare, port, "/api/workflows", env) as (base, _, _):
            results["bare Starlette"] = drive(base)
    if prism:
        port = free_port()
        command = compare_mock.prism_command(port)
        if command is None:
            print("Node/npm not found: Prism skipped", file=sys.stderr)
        else:
            with compare_mock.running(command, port, "/api/workflows") as (base, _, _):
                results["Prism 5"] = drive(base)
    return results


# --- the report --------------------------------------------------------------------------------


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


def report_scale(rows: list[Row], scheduler: bool) -> None:
    print(f"\n### 1. Scale ({LOGS_PER_WORKFLOW} runs per workflow; uvicorn subprocess, HTTP on")
    print(f"loopback, one connection; scheduler {'on' if scheduler else 'off'}; p50 / p99 ms)\n")
    print(
        "| store | workflows | runs | load s | "
        + " | ".join(SCALE_OPERATIONS)
        + " | RSS at rest MB | after MB | peak MB |"
    )
    print("|---|---:|---:|---:|" + "---:|" * len(SCALE_OPERATIONS) + "---:|---:|---:|")
    for r in rows:
        cells = " | ".join(
            f"{r.ms[f'{op} p50']:.2f} / {r.ms[f'{op} p99']:.1f}" for op in SCALE_OPERATIONS
        )
        print(
            f"| {r.store} | {r.size:,} | {r.size * LOGS_PER_WORKFLOW:,} | {r.load_s:.1f} | "
            f"{cells} | {r.rest_mb:.0f} | {r.after_mb:.0f} | {r.peak_mb:.0f} |"
        )
    by = {(r.store, r.size): r for r in rows}
    sizes = sorted({r.size for r in rows})
    steps = list(itertools.pairwise(sizes))
    if steps:
        print("\n#### Growth per step (p50 ratio)\n")
        print("| store | step | " + " | ".join(SCALE_OPERATIONS) + " |")
        print("|---|---|" + "---|" * len(SCALE_OPERATIONS))
        for store in sorted({r.store for r in rows}):
            for small, large in steps:
                if (store, small) in by and (store, large) in by:
                    a, b = by[(store, small)], by[(store, large)]
                    cells = " | ".join(
                        growth(a.ms[f"{op} p50"], b.ms[f"{op} p50"]) for op in SCALE_OPERATIONS
                    )
                    print(f"| {store} | {small:,} → {large:,} | {cells} |")


def report_startup(result: Startup) -> float:
    """Prints the table; returns the ratio of the medians (mock ÷ bare)."""
    trials = len(result.warm["mock"])
    print(f"\n### 2. Start-up to first answer ({trials} starts each, alternated; seconds)\n")
    print("| server | median | min | max | first start (no .pyc, no spec cache) |")
    print("|---|---:|---:|---:|---:|")
    for name, values in result.warm.items():
        print(
            f"| {name} | {statistics.median(values):.3f} | {min(values):.3f} | "
            f"{max(values):.3f} | {result.first[name]:.3f} |"
        )
    ratio = statistics.median(result.warm["mock"]) / statistics.median(
        result.warm["bare Starlette"]
    )
    low = min(result.warm["mock"]) / min(result.warm["bare Starlette"])
    print(f"\nmock ÷ bare Starlette: ×{ratio:.2f} (medians), ×{low:.2f} (minimums)")
    return ratio


def report_load(results: dict[str, dict[str, compare_mock.Load]], duration: float) -> None:
    names = list(results)
    others = [n for n in names if n != "mock"]
    print(f"\n### 3. List and get at c={CONCURRENCY} (wrk, 1 thread, {duration:g} s each)\n")
    print(
        "| operation | "
        + " | ".join(f"{n} req/s (p50/p99 ms)" for n in names)
        + " | "
        + " | ".join(f"mock ÷ {n}" for n in others)
        + " |"
    )
    print("|---|" + "---|" * (len(names) + len(others)))
    for op in LOAD_OPERATIONS:
        cells = []
        for name in names:
            load = results[name][op]
            flag = f" ({load.errors} non-2xx)" if load.errors else ""
            cells.append(f"{load.rps:,.0f} ({load.p50_ms:.2f}/{load.p99_ms:.2f}){flag}")
        mock_rps = results["mock"][op].rps
        cells += [
            f"{mock_rps / results[n][op].rps:.2f}×" if results[n][op].rps else "n/a" for n in others
        ]
        print(f"| {op} | " + " | ".join(cells) + " |")


def verdict(met: bool, figure: str) -> str:
    return f"{'met' if met else '**missed**'} ({figure})"


def report_targets(
    rows: list[Row],
    startup_ratio: float | None,
    load: dict[str, dict[str, compare_mock.Load]] | None,
) -> None:
    print("\n### Targets\n")
    print("| target | figure |")
    print("|---|---|")
    for r in rows:
        at = f"{r.store}, {r.size:,} workflows / {r.size * LOGS_PER_WORKFLOW:,} runs"
        search, logs = r.ms["search p50"], r.ms["logs p50"]
        limit = 20 if r.store == "postgres" else 10
        print(f"| search p50 < {limit} ms ({at}) | {verdict(search < limit, f'{search:.2f} ms')} |")
        print(f"| logs page p50 < 10 ms ({at}) | {verdict(logs < 10, f'{logs:.2f} ms')} |")
        if r.store == "memory":
            figure = f"{r.rest_mb:.0f} MB at rest, {r.peak_mb:.0f} MB peak"
            print(f"| memory RSS < 500 MB ({at}) | {verdict(r.rest_mb < 500, figure)} |")
        elif r.store == "sqlite":
            figure = f"{r.peak_mb:.0f} MB peak, {r.rest_mb:.0f} MB at rest"
            print(f"| SQLite peak < 300 MB ({at}) | {verdict(r.peak_mb < 300, figure)} |")
    if startup_ratio is not None:
        figure = f"×{startup_ratio:.2f} of the medians"
        print(f"| start-up ≤ 1.3× bare Starlette | {verdict(startup_ratio <= 1.3, figure)} |")
    if load is not None:
        for op in LOAD_OPERATIONS:
            mock = load["mock"][op].rps
            bare = load["bare Starlette"][op].rps
            share = 100 * mock / bare if bare else 0.0
            print(
                f"| {op} at c=50 ≥ 80 % of bare Starlette | "
                f"{verdict(share >= 80, f'{share:.0f} %')} |"
            )
            prism = load["Prism 5"][op].rps if "Prism 5" in load else 0.0
            if prism:
                print(
                    f"| {op} at c=50 ≥ 10× Prism 5 | "
                    f"{verdict(mock / prism >= 10, f'×{mock / prism:.1f}')} |"
                )


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


@contextlib.contextmanager
def _cluster_removed() -> Iterator[None]:
    try:
        yield
    finally:
        if CLUSTER is not None:
            CLUSTER.remove()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2k workflows, fewer samples")
    parser.add_argument("--sizes", help="workflow counts, comma-separated (default 100000)")
    parser.add_argument("--stores", default="memory,sqlite")
    parser.add_argument("--samples", type=int, help="requests per measurement (default 200)")
    parser.add_argument("--startup-trials", type=int, help="starts of each server (default 15)")
    parser.add_argument("--duration", type=float, help="seconds per wrk load (default 5)")
    parser.add_argument(
        "--skip",
        default="",
        help="parts to leave out, comma-separated: scale, startup, compare, prism",
    )
    parser.add_argument("--no-scheduler", action="store_true", help="serve without the scheduler")
    parser.add_argument("--profile", type=int, metavar="SIZE", help="py-spy one size instead")
    parser.add_argument("--serve", type=int, metavar="PORT", help=argparse.SUPPRESS)
    parser.add_argument("--build", metavar="FILE", help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--state", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.size, args.state, not args.no_scheduler)
        return
    if args.build:
        build_sqlite(args.build, args.size)
        return
    sizes = args.sizes or ("2000" if args.quick else "100000")
    samples = args.samples or (50 if args.quick else 200)
    trials = args.startup_trials or (5 if args.quick else 15)
    duration = args.duration or (2.0 if args.quick else 5.0)
    skip = {part.strip() for part in args.skip.split(",") if part.strip()}
    stores = [s.strip() for s in args.stores.split(",") if s.strip()]
    scheduler = not args.no_scheduler
    with tempfile.TemporaryDirectory(prefix="lenz-scale-") as tmp, _cluster_removed():
        if args.profile:
            for store in stores:
                profile(args.profile, store, scheduler, samples, Path(tmp))
            return
        started = time.perf_counter()
        rows: list[Row] = []
        if "scale" not in skip:
            for store in stores:
                for size in (int(s) for s in sizes.split(",")):
                    rows.append(run(store, size, samples, scheduler, Path(tmp)))
                    r = rows[-1]
                    print(
                        f"{store} {size:,}: loaded in {r.load_s:.1f} s, search p50 "
                        f"{r.ms['search p50']:.2f} ms, RSS {r.rest_mb:.0f} MB",
                        file=sys.stderr,
                    )
        boot = None if "startup" in skip else startup(trials, Path(tmp))
        load = None if "compare" in skip else under_load(duration, "prism" not in skip)
    print(f"\n## The mock at scale — `bench/scale.py{' --quick' if args.quick else ''}`")
    if rows:
        report_scale(rows, scheduler)
    ratio = report_startup(boot) if boot is not None else None
    if load is not None:
        report_load(load, duration)
    report_targets(rows, ratio, load)
    print(f"\n(total {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
