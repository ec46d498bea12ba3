"""How much latency does the validating proxy add? Direct vs proxied, p50/p99, concurrency 10.

    .venv/bin/python bench/proxy_overhead.py [--concurrency 10] [--rate 250] [--rounds 2]
        [--requests 2000] [--paced-requests 1000]
        [--reference-engine process|thread|off] [--fail-on-violation]

The upstream (the mock if it is installed, else a trivial Starlette app) and the proxy each run
in their own uvicorn subprocess on 127.0.0.1; the load comes from this process through a
minimal keep-alive HTTP/1.1 client (asyncio streams), so the client costs the same few
microseconds on both paths. Direct and proxied runs alternate for `--rounds` rounds so drift
(CPU frequency, other load) hits both. Prints a Markdown table; the overhead is proxied minus
direct at the same percentile.

Two tables: paced (the clients together send `--rate` requests a second on a schedule, below
saturation: the latency the proxy adds to each request, what a developer clicking through an
app or a CI smoke run sees), and saturated (closed loop: every client sends again as soon as it
has an answer; on a small machine shared by client, upstream and proxy this measures CPU
throughput as much as latency, and queueing multiplies the per-request cost by about the
concurrency).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

TOKEN = "lenz-mock-token"
TRIVIAL_UPSTREAM = r"""
import json, sys, uvicorn
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route
WF = {"id": "wf-uuid-001", "name": "n", "is_active": True, "trigger_node": {"type": "schedule",
      "config": {"cron": "0 0 7 * * *"}}, "nodes": [], "created_at": "2025-01-15T00:00:00Z",
      "updated_at": None}
ONE = json.dumps({"ok": True, "message": "success", "data": WF}).encode()
PAGE = json.dumps({"ok": True, "message": "success", "data": [WF] * 10, "limit": 10,
                   "current_page": 1, "total_data": 10, "total_page": 1}).encode()
async def one(request): return Response(ONE, media_type="application/json")
async def page(request): return Response(PAGE, media_type="application/json")
async def missing(request): return Response(b'{"ok": false, "message": "invalid request"}', 404, media_type="application/json")
app = Starlette(routes=[Route("/api/workflows", page), Route("/api/workflows/wf-uuid-001", one),
                        Route("/api/workflows/{id}", missing)])
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)
"""
SCENARIOS = [
    ("GET one workflow", "/api/workflows/wf-uuid-001"),
    ("GET a page of workflows", "/api/workflows?page=1&limit=10"),
    ("GET unknown id (404)", "/api/workflows/no-such-id"),
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_ready(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except OSError as exc:
            if getattr(exc, "code", None):  # an HTTP error status still means it is up
                return
            time.sleep(0.1)
    raise TimeoutError(f"{url} did not come up")


def start_upstream(port: int) -> tuple[subprocess.Popen[bytes], str]:
    try:
        import lenz_contract.mock  # noqa: F401

        cmd = [sys.executable, "-m", "lenz_contract", "mock", "--port", str(port)]
        kind = "the lenz-contract mock"
    except ImportError:
        cmd = [sys.executable, "-c", TRIVIAL_UPSTREAM, str(port)]
        kind = "a trivial Starlette app"
    process = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return process, kind


def start_proxy(
    port: int, upstream: str, args: argparse.Namespace, log: Path
) -> subprocess.Popen[bytes]:
    cmd = [
        sys.executable, "-m", "lenz_contract", "proxy",
        "--upstream", upstream, "--port", str(port),
        "--reference-engine", args.reference_engine, "--log", str(log),
    ]  # fmt: skip
    if args.fail_on_violation:
        cmd.append("--fail-on-violation")
    if getattr(args, "transport", None):
        cmd += ["--transport", args.transport]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


# --- a minimal keep-alive HTTP/1.1 client -------------------------------------------------------


async def read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    length = None
    chunked = False
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if length is not None:
        await reader.readexactly(length)
    elif chunked:
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    return status


async def load(
    port: int, target: str, total: int, concurrency: int, rate: float | None = None
) -> list[float]:
    """Latencies (ms) of `total` requests from `concurrency` keep-alive clients.

    `rate` None: closed loop, each client sends its next request as soon as it has an answer
    (saturation: measures throughput as much as latency). `rate` R: the clients together send R
    requests a second on a fixed schedule (open loop below saturation: the added latency itself).
    """
    request = (
        f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Authorization: Bearer {TOKEN}\r\nAccept: application/json\r\n\r\n"
    ).encode()
    latencies: list[float] = []
    remaining = [total]

    interval = concurrency / rate if rate else 0.0

    async def worker(index: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        due = time.perf_counter() + index * interval / concurrency
        try:
            while remaining[0] > 0:
                remaining[0] -= 1
                if interval:
                    due += interval
                    await asyncio.sleep(max(0.0, due - time.perf_counter()))
                started = time.perf_counter()
                writer.write(request)
                await read_response(reader)
                latencies.append((time.perf_counter() - started) * 1000)
        finally:
            writer.close()

    await asyncio.gather(*(worker(i) for i in range(concurrency)))
    return latencies


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--requests", type=int, default=2000, help="closed loop: per scenario, path and round"
    )
    parser.add_argument(
        "--paced-requests", type=int, default=1000, help="paced: per scenario, path and round"
    )
    parser.add_argument(
        "--rate", type=float, default=250.0, help="paced: requests/s from all clients together"
    )
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--reference-engine", default="process", choices=["process", "thread", "off"]
    )
    parser.add_argument("--fail-on-violation", action="store_true")
    parser.add_argument(
        "--transport", choices=["fast", "httpcore"], help="the proxy's upstream client"
    )
    args = parser.parse_args()
    up_port, proxy_port = free_port(), free_port()
    upstream, kind = start_upstream(up_port)
    log = Path(tempfile.mkdtemp(prefix="lenz-bench-")) / "violations.jsonl"
    proxy = start_proxy(proxy_port, f"http://127.0.0.1:{up_port}", args, log)
    try:
        wait_ready(f"http://127.0.0.1:{up_port}/api/workflows")
        wait_ready(f"http://127.0.0.1:{proxy_port}/__proxy/health")
        tables = []
        for label, rate, count in (
            (
                f"paced: {args.rate:g} requests/s in total from {args.concurrency} clients",
                args.rate,
                args.paced_requests,
            ),
            (f"saturated: closed loop, {args.concurrency} clients, no pause", None, args.requests),
        ):
            rows = []
            for name, target in SCENARIOS:
                direct: list[float] = []
                proxied: list[float] = []
                asyncio.run(load(up_port, target, 200, args.concurrency))  # warm-up
                asyncio.run(load(proxy_port, target, 200, args.concurrency))
                for _ in range(args.rounds):
                    direct += asyncio.run(load(up_port, target, count, args.concurrency, rate))
                    proxied += asyncio.run(load(proxy_port, target, count, args.concurrency, rate))
                rows.append((name, direct, proxied))
            tables.append((label, rows))
        with urllib.request.urlopen(
            urllib.request.Request(f"http://127.0.0.1:{proxy_port}/__proxy/flush", method="POST"),
            timeout=60,
        ) as answer:
            flushed = json.loads(answer.read())
    finally:
        proxy.terminate()
        upstream.terminate()
        proxy.wait(10)
        upstream.wait(10)
    print(
        f"\nUpstream: {kind}. Concurrency {args.concurrency}, keep-alive, {args.rounds} alternating "
        f"round(s) of {args.paced_requests} (paced) / {args.requests} (saturated) requests per path "
        f"and scenario. Reference engine: {args.reference_engine}"
        f"{', --fail-on-violation' if args.fail_on_violation else ''}. CPUs: {os.cpu_count()}.\n"
    )
    for label, rows in tables:
        print(f"\n**{label}**\n")
        print(
            "| scenario | direct p50 | proxied p50 | overhead p50 | direct p99 | proxied p99 | overhead p99 |"
        )
        print("|---|---:|---:|---:|---:|---:|---:|")
        for name, direct, proxied in rows:
            d50, p50 = statistics.median(direct), statistics.median(proxied)
            d99, p99 = pct(direct, 99), pct(proxied, 99)
            print(
                f"| {name} | {d50:.2f} ms | {p50:.2f} ms | **{p50 - d50:+.2f} ms** | {d99:.2f} ms | "
                f"{p99:.2f} ms | {p99 - d99:+.2f} ms |"
            )
    reference = flushed.get("reference", {})
    print(
        f"\nProxy after the run: {flushed.get('exchanges')} exchanges, {flushed.get('violations')} "
        f"violation(s); openapi-core checked {reference.get('checked')}, skipped "
        f"{reference.get('skipped')} (queue full), failed {reference.get('failed')}."
    )


if __name__ == "__main__":
    main()
