"""Throughput and startup of `lenz-contract mock` on loopback (re-runnable; not a test).

Starts the real CLI as a subprocess (one uvicorn worker, uvloop + httptools), measures the time
from spawn to the first answered request, then loads a few endpoints at concurrency 50 with
`wrk` when installed (`apt-get install -y wrk`), else with an async httpx client (slower: the
client then competes with the server for the same cores). Prints a Markdown table.

    .venv/bin/python bench/mock_throughput.py [--duration 10] [--connections 50] [--self-check]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import httpx

TOKEN = "lenz-mock-token"
HEADERS = {"Authorization": f"Bearer {TOKEN}"}
CREATE_BODY = (
    Path(__file__).resolve().parents[1] / "fixtures" / "docs" / "createWorkflow.request.json"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_mock(port: int, extra: list[str]) -> tuple[subprocess.Popen[bytes], float]:
    """Spawn the CLI; returns the process and seconds until it answered a request."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "lenz_contract", "mock", "--port", str(port), *extra],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}/api/workflows"
    request = urllib.request.Request(url, headers=HEADERS)
    deadline = started + 30
    while time.perf_counter() < deadline:
        try:
            with urllib.request.urlopen(request, timeout=1) as answer:
                if answer.status == 200:
                    return proc, time.perf_counter() - started
        except OSError:
            time.sleep(0.01)
    proc.kill()
    raise RuntimeError("the mock did not start")


def wrk(
    url: str, connections: int, duration: float, method: str = "GET", body: str | None = None
) -> tuple[float, str]:
    cmd = [
        "wrk",
        "-t2",
        f"-c{connections}",
        f"-d{max(1, round(duration))}s",
        "--latency",
        "-H",
        f"Authorization: Bearer {TOKEN}",
    ]
    script = None
    if method != "GET":
        script = Path(f"/tmp/lenz-bench-{os.getpid()}.lua")
        script.write_text(
            f'wrk.method = "{method}"\nwrk.body = {json.dumps(body or "")}\n'
            'wrk.headers["Content-Type"] = "application/json"\n'
        )
        cmd += ["-s", str(script)]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, check=True).stdout
    if script:
        script.unlink()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = re.search(r"50%\s+([\d.]+\w+)", out)
    return rps, p50.group(1) if p50 else "?"


async def httpx_load(
    url: str, connections: int, duration: float, method: str = "GET", body: str | None = None
) -> tuple[float, str]:
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    latencies: list[float] = []
    stop = time.perf_counter() + duration
    headers = {**HEADERS, "Content-Type": "application/json"}
    async with httpx.AsyncClient(limits=limits, headers=headers) as client:

        async def worker() -> None:
            while time.perf_counter() < stop:
                t = time.perf_counter()
                await client.request(method, url, content=body)
                latencies.append(time.perf_counter() - t)

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.perf_counter() - began
    latencies.sort()
    return len(latencies) / elapsed, f"{latencies[len(latencies) // 2] * 1000:.2f}ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--self-check", action="store_true", help="serve with --self-check")
    args = parser.parse_args()
    port = free_port()
    extra = ["--self-check"] if args.self_check else []
    proc, startup = start_mock(port, extra)
    base = f"http://127.0.0.1:{port}"
    tool = "wrk" if shutil.which("wrk") else "httpx"
    rows: list[tuple[str, float, str]] = []
    try:
        body = CREATE_BODY.read_text(encoding="utf-8")
        cases = [
            ("GET /api/workflows", f"{base}/api/workflows", "GET", None),
            (
                "GET /api/workflows?search=laporan&limit=10",
                f"{base}/api/workflows?search=laporan&limit=10",
                "GET",
                None,
            ),
            ("GET /api/workflows/wf-uuid-001", f"{base}/api/workflows/wf-uuid-001", "GET", None),
            (
                "GET /api/workflows/wf-uuid-001/logs",
                f"{base}/api/workflows/wf-uuid-001/logs",
                "GET",
                None,
            ),
            ("POST /api/workflows (create)", f"{base}/api/workflows", "POST", body),
        ]
        for label, url, method, payload in cases:
            if tool == "wrk":
                rps, p50 = wrk(url, args.connections, args.duration, method, payload)
            else:
                rps, p50 = asyncio.run(
                    httpx_load(url, args.connections, args.duration, method, payload)
                )
            rows.append((label, rps, p50))
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=15)
    cpus = os.cpu_count()
    print(
        f"\n`lenz-contract mock` (1 worker{', --self-check' if args.self_check else ''}), "
        f"{tool} at c={args.connections}, {args.duration:g} s per row, {cpus} cores shared by client and server\n"
    )
    print(f"startup (spawn → first answered request): **{startup:.2f} s**\n")
    print("| request | requests/s | p50 latency |")
    print("|---|---:|---:|")
    for label, rps, p50 in rows:
        print(f"| `{label}` | {rps:,.0f} | {p50} |")


if __name__ == "__main__":
    main()
