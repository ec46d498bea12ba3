"""How long a conformance run takes against the local mock, and how it grows with --max-examples.

Run: `.venv/bin/python bench/conformance_time.py [--examples 10,25,50,100] [--profiles docs,strict]`.
Starts `lenz-contract mock` in its own process (one uvicorn worker), runs `lenz-contract conform`
against it for each setting (the default is 50 examples), and prints a Markdown table of wall
time, requests sent and the verdict, as the CLI reports them.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

TOKEN = "bench-token"
SUMMARY = re.compile(
    r"(CONFORMS|FAILS)\S*: (\d+) failed, (\d+) passed, (\d+) skipped; (\d+) requests in ([\d.]+)s"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--examples", default="10,25,50,100", help="--max-examples values, comma-separated"
    )
    parser.add_argument("--profiles", default="docs,strict")
    args = parser.parse_args()
    lenz = str(Path(sys.executable).with_name("lenz-contract"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    mock = subprocess.Popen(
        [lenz, "mock", "--port", str(port), "--token", f"{TOKEN}=user-bench"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        for _ in range(300):
            try:
                httpx.get(base + "/openapi.json", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.05)
        print("| profile | --max-examples | verdict | requests | run time (CLI) s | wall s |")
        print("|---|---|---|---|---|---|")
        for profile in args.profiles.split(","):
            for examples in args.examples.split(","):
                started = time.perf_counter()
                done = subprocess.run(
                    [lenz, "conform", "--base-url", base, "--token", TOKEN, "--profile", profile,
                     "--max-examples", examples],
                    capture_output=True,
                    text=True,
                    timeout=900,
                    env={**os.environ, "COLUMNS": "200"},
                )  # fmt: skip
                wall = time.perf_counter() - started
                found = SUMMARY.search(done.stdout.replace("\n", " "))
                if found is None:
                    print(
                        f"| {profile} | {examples} | exit {done.returncode} | ? | ? | {wall:.1f} |"
                    )
                    continue
                verdict, failed, _passed, _skipped, requests, seconds = found.groups()
                print(
                    f"| {profile} | {examples} | {verdict} ({failed} failed) | {requests} | {seconds} | {wall:.1f} |"
                )
    finally:
        os.killpg(mock.pid, signal.SIGINT)
        mock.wait(10)


if __name__ == "__main__":
    main()
