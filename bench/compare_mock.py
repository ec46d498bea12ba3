"""The mock side by side with its ceiling (bare Starlette, same bytes) and with Prism 5.

Run: `.venv/bin/python bench/compare_mock.py [--duration 5] [--no-prism]`. Prints Markdown
tables: throughput and p50/p99 latency of list, get, create and execute at concurrency 1, 10
and 50 (wrk, one thread, on loopback), startup time to first answer, and idle RSS; ratios are
against the mock without its background scheduler, the bare app and Prism measured in the same
run. Prism is installed with npm into
`bench/.prism/` on first use when Node is present. Every server runs in its own process with one
uvicorn worker (uvloop + httptools), as a developer would run it.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SPEC = REPO / "openapi" / "lenz-workflows.yaml"
CREATE_BODY = (REPO / "fixtures" / "docs" / "createWorkflow.request.json").read_text()
TOKEN = "bench-token"
PRISM_VERSION = "5.16.0"
CONCURRENCY = (1, 10, 50)
WORKFLOW_ID = "wf-uuid-001"


@dataclass(frozen=True)
class Load:
    """One measured load: requests per second and latency percentiles in milliseconds."""

    rps: float
    p50_ms: float
    p99_ms: float
    errors: int


OPERATIONS = {
    "list": ("GET", "/api/workflows", None),
    "get": ("GET", f"/api/workflows/{WORKFLOW_ID}", None),
    "create": ("POST", "/api/workflows", CREATE_BODY),
    "execute": ("POST", f"/api/workflows/{WORKFLOW_ID}/execute", None),
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_ready(url: str, timeout: float = 60.0) -> float:
    """Seconds until `url` answers (any status)."""
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        try:
            httpx.get(url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=1.0)
            return time.perf_counter() - start
        except httpx.HTTPError:
            time.sleep(0.01)
    raise TimeoutError(f"{url} did not answer in {timeout} s")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


@contextmanager
def running(
    command: list[str], port: int, probe: str, env: dict[str, str] | None = None
) -> Iterator[tuple[str, float, int]]:
    """Start a server process; yield its base URL, startup seconds and pid; stop it."""
    process = subprocess.Popen(
        command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        env={**os.environ, **(env or {})},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        startup = wait_ready(base + probe)
        yield base, startup, process.pid
    finally:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def wrk(url: str, method: str, body: str | None, concurrency: int, duration: float) -> Load:
    """Drive `url` with wrk (one thread); a small Lua script sets method, headers and body."""
    script = f"wrk.method = {json.dumps(method)}\nwrk.headers['Authorization'] = 'Bearer {TOKEN}'\n"
    if body is not None:
        # a Lua long string keeps the UTF-8 body byte for byte (no escapes to translate)
        script += f"wrk.headers['Content-Type'] = 'application/json'\nwrk.body = [==[{body}]==]\n"
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    try:
        done = subprocess.run(
            [
                "wrk",
                "-t1",
                f"-c{concurrency}",
                f"-d{max(1, round(duration))}s",
                "--latency",
                "-s",
                handle.name,
                url,
            ],
            capture_output=True,
            text=True,
            timeout=duration + 30,
        )
    finally:
        os.unlink(handle.name)
    if "Requests/sec" not in done.stdout:
        raise RuntimeError(f"wrk failed on {url}: {done.stdout}{done.stderr}")
    return parse_wrk(done.stdout)


def parse_wrk(output: str) -> Load:
    def latency(label: str) -> float:
        found = re.search(rf"^\s*{label}%\s+([\d.]+)(us|ms|s)\s*$", output, re.M)
        if not found:
            return float("nan")
        value, unit = float(found.group(1)), found.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    socket_errors = re.search(r"Socket errors:.*?(\d+) timeout", output)
    return Load(
        rps=float(rps.group(1)) if rps else 0.0,
        p50_ms=latency("50"),
        p99_ms=latency("99"),
        errors=(int(errors.group(1)) if errors else 0)
        + (int(socket_errors.group(1)) if socket_errors else 0),
    )


def capture_bodies(base: str) -> dict[str, tuple[int, bytes]]:
    """The mock's own answers, so the bare app serves exactly the same bytes."""
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    out = {}
    with httpx.Client(base_url=base, headers=headers) as client:
        for name, (method, path, body) in OPERATIONS.items():
            answer = client.request(method, path, content=body)
            out[name] = (answer.status_code, answer.content)
    return out


BARE_APP = """
import json, os
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route
bodies = json.load(open(os.environ["BARE_BODIES"]))
def answer(name):
    status, text = bodies[name]
    data = text.encode()
    async def endpoint(request):
        await request.body()
        return Response(data, status_code=status, media_type="application/json")
    return endpoint
app = Starlette(routes=[
    Route("/api/workflows", answer("list"), methods=["GET"]),
    Route("/api/workflows", answer("create"), methods=["POST"]),
    Route("/api/workflows/{id}", answer("get"), methods=["GET"]),
    Route("/api/workflows/{id}/execute", answer("execute"), methods=["POST"]),
])
"""


def prism_command(port: int) -> list[str] | None:
    if not shutil.which("npm") or not shutil.which("node"):
        return None
    prefix = HERE / ".prism"
    binary = prefix / "node_modules" / ".bin" / "prism"
    if not binary.exists():
        print(f"installing @stoplight/prism-cli@{PRISM_VERSION} into {prefix} ...", file=sys.stderr)
        subprocess.run(
            [
                "npm",
                "install",
                "--prefix",
                str(prefix),
                "--no-audit",
                "--no-fund",
                "--loglevel=error",
                f"@stoplight/prism-cli@{PRISM_VERSION}",
            ],
            check=True,
            timeout=600,
        )
    return [str(binary), "mock", "-h", "127.0.0.1", "-p", str(port), "--errors", "false", str(SPEC)]


def ensure_wrk() -> None:
    """wrk is a Debian package: installed here when missing and we may (root with apt-get)."""
    if shutil.which("wrk"):
        return
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("installing wrk ...", file=sys.stderr)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=False, env=env, timeout=600)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "wrk"], check=False, env=env, timeout=600
        )
    if not shutil.which("wrk"):
        sys.exit("wrk is needed (Debian: apt-get install wrk)")


def measure(base: str, duration: float) -> dict[tuple[str, int], Load]:
    results = {}
    for name, (method, path, body) in OPERATIONS.items():
        for concurrency in CONCURRENCY:
            results[(name, concurrency)] = wrk(base + path, method, body, concurrency, duration)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=5, help="seconds per load (default 5)")
    parser.add_argument("--no-prism", action="store_true", help="skip Prism")
    args = parser.parse_args()
    ensure_wrk()
    python = sys.executable
    lenz = str(Path(python).with_name("lenz-contract"))
    servers: dict[str, dict[tuple[str, int], Load]] = {}
    startup: dict[str, float] = {}
    memory: dict[str, float] = {}

    port = free_port()
    mock = [
        lenz,
        "mock",
        "--port",
        str(port),
        "--token",
        f"{TOKEN}=user-bench",
        "--log-level",
        "warning",
    ]
    with running(mock, port, "/api/workflows") as (base, seconds, pid):
        startup["mock"], memory["mock"] = seconds, rss_mb(pid)
        bodies = capture_bodies(base)
        servers["mock"] = measure(base, args.duration)

    # The same mock without its background scheduler: the creates above add thousands of active
    # scheduled workflows a second, so this shows what the scheduler's checks cost the requests.
    port = free_port()
    quiet = [*mock[:3], str(port), *mock[4:], "--no-scheduler"]
    with running(quiet, port, "/api/workflows") as (base, seconds, pid):
        startup["mock, scheduler off"], memory["mock, scheduler off"] = seconds, rss_mb(pid)
        servers["mock, scheduler off"] = measure(base, args.duration)

    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "bare.py").write_text(BARE_APP)
        (Path(folder) / "bodies.json").write_text(
            json.dumps({k: [s, b.decode()] for k, (s, b) in bodies.items()})
        )
        port = free_port()
        bare = [
            python,
            "-m",
            "uvicorn",
            "--app-dir",
            folder,
            "bare:app",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ]
        env = {"BARE_BODIES": str(Path(folder) / "bodies.json")}
        with running(bare, port, "/api/workflows", env) as (base, seconds, pid):
            startup["bare Starlette"], memory["bare Starlette"] = seconds, rss_mb(pid)
            servers["bare Starlette"] = measure(base, args.duration)

    if not args.no_prism:
        port = free_port()
        command = prism_command(port)
        if command is None:
            print("Node/npm not found: Prism skipped", file=sys.stderr)
        else:
            with running(command, port, "/api/workflows") as (base, seconds, pid):
                startup["Prism 5"], memory["Prism 5"] = seconds, rss_mb(pid)
                servers["Prism 5"] = measure(base, args.duration)

    print_tables(servers, startup, memory, args.duration)


def print_tables(
    servers: dict[str, dict[tuple[str, int], Load]],
    startup: dict[str, float],
    memory: dict[str, float],
    duration: float,
) -> None:
    names = list(servers)
    print(f"## Throughput and latency (wrk, 1 thread, {duration:g} s per cell, 1 uvicorn worker)\n")
    header = "| operation | c | " + " | ".join(f"{n} req/s (p50/p99 ms)" for n in names)
    ratios = [n for n in names if n != "mock"]
    header += " | " + " | ".join(f"mock ÷ {n}" for n in ratios) + " |"
    print(header)
    print("|" + "---|" * (2 + len(names) + len(ratios)))
    for name in OPERATIONS:
        for concurrency in CONCURRENCY:
            cells = []
            for server in names:
                load = servers[server][(name, concurrency)]
                flag = f" ({load.errors} non-2xx)" if load.errors else ""
                cells.append(f"{load.rps:,.0f} ({load.p50_ms:.2f}/{load.p99_ms:.2f}){flag}")
            mock_rps = servers["mock"][(name, concurrency)].rps
            cells += [
                f"{mock_rps / servers[n][(name, concurrency)].rps:.2f}×"
                if servers[n][(name, concurrency)].rps
                else "n/a"
                for n in ratios
            ]
            print(f"| {name} | {concurrency} | " + " | ".join(cells) + " |")
    print("\n## Startup to first answer, idle memory\n")
    print("| server | startup s | RSS MB |")
    print("|---|---|---|")
    for server in names:
        print(f"| {server} | {startup[server]:.2f} | {memory[server]:.0f} |")


if __name__ == "__main__":
    main()
