"""The mock's safety rails: the admin API off the network, no token in any output, no reads
outside the fixtures folder.

Risks covered:
- `/__mock/` (reset, import: it can wipe the state) reachable from a network. The mock opens
  it when its configured host is loopback (or with `--admin`), and refuses it on a connection
  that arrived through a network interface; here with real servers bound to 0.0.0.0, called
  through 127.0.0.1 and, when the machine has one, through a non-loopback address.
- a bearer token (accepted or refused) copied into the request log, the export of the state or
  the server's output at `--log-level debug`, from where it ends up in CI logs and bug reports.
- `--fixtures` pointing at a folder whose seed links to files elsewhere (`/etc/passwd`,
  another project's data), read and served by the mock.
`tests/mock/test_admin.py` simulates the host check in-process; these run real sockets.
"""

from __future__ import annotations

import ipaddress
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from lenz_contract.mock import create_app
from lenz_contract.spec import FIXTURES_DIR
from lenz_contract.spec.fixtures import FixtureError

from ..support.live import serve
from ..support.processes import MOCK_AUTH as AUTH
from ..support.processes import cli_process
from .conftest import CREATE

ADMIN_CALLS = [
    ("GET", "/__mock/"),
    ("GET", "/__mock/state"),
    ("PUT", "/__mock/state"),
    ("POST", "/__mock/reset"),
    ("GET", "/__mock/requests"),
    ("PUT", "/__mock/config"),
    ("POST", "/__mock/clock"),
]
SECRET = "s3cr3t-T0KEN-4f9a"
WRONG = "wr0ng-T0KEN-77c1"
BASIC = "dXNlcjpodW50ZXIy"  # user:hunter2


def port_of(base_url: str) -> int:
    return int(base_url.rsplit(":", 1)[1])


def non_loopback_address() -> str | None:
    """An IPv4 address of this machine that is not loopback (None in a network-less sandbox)."""
    for probe in ("192.0.2.1", "10.255.255.255", "8.8.8.8"):  # UDP connect sends nothing
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
                sock.connect((probe, 9))
                address = str(sock.getsockname()[0])
        except OSError:
            continue
        if not ipaddress.ip_address(address).is_loopback and address != "0.0.0.0":
            return address
    return None


def assert_admin_refused(base: str) -> None:
    with httpx.Client(base_url=base, timeout=10) as http:
        for method, path in ADMIN_CALLS:
            answer = http.request(method, path, json={})
            assert answer.status_code == 403, (method, path, answer.text)
            assert answer.headers["content-type"] == "application/json"
            body = answer.json()
            assert body["ok"] is False and body["errors"][0]["path"] == "admin"


def assert_admin_open(base: str) -> None:
    with httpx.Client(base_url=base, timeout=10) as http:
        assert http.get("/__mock/").status_code == 200
        assert http.get("/__mock/state").json()["workflows"]
        assert http.get("/__mock/clock").status_code == 200


# --- the admin API -------------------------------------------------------------------------------


def test_admin_is_refused_when_bound_to_all_interfaces_even_from_loopback() -> None:
    """The decision follows where the server listens (0.0.0.0), not who is asking (127.0.0.1)."""
    app = create_app(host="0.0.0.0", scheduler=False)
    with serve(app, host="0.0.0.0") as url:
        local = f"http://127.0.0.1:{port_of(url)}"
        assert_admin_refused(local)
        assert httpx.get(f"{local}/api/workflows", headers=AUTH).status_code == 200
        assert httpx.get(f"{local}/__mock/state").status_code == 403  # nothing was reset
    assert app.state.mock.store.get_workflow("wf-uuid-001") is not None


def test_admin_opens_on_all_interfaces_only_with_admin() -> None:
    """`admin=True` is the one way to open it off loopback (a deliberate choice)."""
    app = create_app(host="0.0.0.0", admin=True, scheduler=False)
    with serve(app, host="0.0.0.0") as url:
        assert_admin_open(f"http://127.0.0.1:{port_of(url)}")


def test_admin_is_refused_through_a_network_interface_whatever_the_config_says() -> None:
    """An app built for 127.0.0.1 but served on 0.0.0.0 (`uvicorn --factory ... --host 0.0.0.0`):
    loopback callers get the admin API, callers through a network interface do not."""
    address = non_loopback_address()
    if address is None:
        pytest.skip("this machine has no non-loopback IPv4 address")
    app = create_app(scheduler=False)  # config: host 127.0.0.1
    with serve(app, host="0.0.0.0") as url:
        assert_admin_open(f"http://127.0.0.1:{port_of(url)}")
        assert_admin_refused(f"http://{address}:{port_of(url)}")
        answer = httpx.get(f"http://{address}:{port_of(url)}/api/workflows", headers=AUTH)
        assert answer.status_code == 200  # the API itself is meant to be reachable


def test_cli_on_all_interfaces_refuses_admin_unless_told(tmp_path: Path) -> None:
    """The same through the real command: `--host 0.0.0.0` closes it, `--admin` opens it."""
    with cli_process("mock", "--host", "0.0.0.0", workdir=tmp_path) as mock:
        assert_admin_refused(mock.base_url)
        assert "closed: not on loopback; use --admin" in mock.output()
    with cli_process("mock", "--host", "0.0.0.0", "--admin", workdir=tmp_path) as mock:
        assert_admin_open(mock.base_url)


# --- tokens --------------------------------------------------------------------------------------


def exercise_with_tokens(base: str) -> None:
    """Accepted, refused, malformed and non-bearer credentials, on good and bad requests."""
    good = {"Authorization": f"Bearer {SECRET}"}
    with httpx.Client(base_url=base, timeout=10) as http:
        created = http.post("/api/workflows", json=CREATE, headers=good).json()["data"]["id"]
        http.post(f"/api/workflows/{created}/execute", headers=good)
        http.put(
            f"/api/workflows/{created}",
            content=b"{",
            headers={**good, "Content-Type": "application/json"},
        )
        http.get("/api/workflows?limit=0", headers=good)
        for value in (
            f"Bearer {WRONG}",
            f"bearer {SECRET}x",
            f"Basic {BASIC}",
            WRONG,
            f"Bearer  {WRONG}",
        ):
            http.get("/api/workflows", headers={"Authorization": value})
        http.get("/api/workflows", headers={"Proxy-Authorization": f"Basic {BASIC}"})
        http.get("/api/workflows", headers={"X-Forwarded-Authorization": f"Bearer {WRONG}"})
        http.get("/api/workflows", headers={**good, "Cookie": f"session={WRONG}"})
        http.get("/nowhere", headers=good)
        http.patch("/api/workflows", headers=good)


def assert_no_secret(text: str, where: str) -> None:
    for secret in (SECRET, WRONG, BASIC):
        assert secret not in text, f"{secret!r} leaked into {where}"


def test_tokens_never_reach_the_request_log_the_state_or_the_logs(tmp_path: Path) -> None:
    """Accepted, refused and non-bearer credentials, at debug level, through the real command."""
    with cli_process(
        "mock",
        "--log-level",
        "debug",
        "--token",
        f"{SECRET}=user-secret",
        "--self-check",
        workdir=tmp_path,
    ) as mock:
        exercise_with_tokens(mock.base_url)
        with httpx.Client(base_url=mock.base_url, timeout=10) as http:
            requests = http.get("/__mock/requests", params={"limit": 1000})
            state = http.get("/__mock/state")
        assert mock.stop() == 0
        output = mock.output()
    logged = requests.json()["data"]
    assert len(logged) >= 12 and any(e["headers"].get("authorization") for e in logged)
    assert_no_secret(requests.text, "GET /__mock/requests")
    assert "user-secret" in state.text  # the run is there, by the token's user, not its token
    assert_no_secret(state.text, "GET /__mock/state")
    # The startup banner prints the tokens the mock accepts (by design, tests/mock/test_cli.py);
    # after it, nothing may repeat one, and a refused token must never be printed at all.
    banner, _, rest = output.partition("Press Ctrl-C to stop.")
    assert "Lenz Workflows API mock listening on" in banner
    assert_no_secret(rest, "the mock's output after its banner")
    assert WRONG not in output and BASIC not in output
    assert "Traceback" not in output


# --- fixtures outside their folder ---------------------------------------------------------------


def fixtures_copy(root: Path) -> Path:
    """A private copy of the shipped fixtures, with a valid seed of its own."""
    folder = root / "fixtures"
    shutil.copytree(FIXTURES_DIR, folder)
    return folder


def elsewhere(root: Path) -> Path:
    """Another project's data: valid seed files that merely live outside the fixtures folder."""
    other = root / "other-project"
    shutil.copytree(FIXTURES_DIR / "seed", other)
    return other


@pytest.mark.parametrize(
    "layout",
    [
        "file-symlink-out",
        "relative-traversal",
        "absolute-system-file",
        "seed-dir-symlink-out",
        "dangling",
        "fifo",
    ],
)
def test_seed_files_outside_the_fixtures_folder_are_refused(tmp_path: Path, layout: str) -> None:
    """Symlinks out of the folder (relative, absolute, the seed folder itself), dangling links
    and FIFOs: refused with the file named, and nothing of the target shown."""
    folder = fixtures_copy(tmp_path)
    seed = folder / "seed"
    target = seed / "workflows.json"
    if layout != "seed-dir-symlink-out":
        target.unlink()
    if layout == "file-symlink-out":
        target.symlink_to(elsewhere(tmp_path) / "workflows.json")
    elif layout == "relative-traversal":
        elsewhere(tmp_path)
        target.symlink_to(Path("..", "..", "other-project", "workflows.json"))
    elif layout == "absolute-system-file":
        target.symlink_to("/etc/passwd")
    elif layout == "seed-dir-symlink-out":
        shutil.rmtree(seed)
        seed.symlink_to(elsewhere(tmp_path), target_is_directory=True)
    elif layout == "dangling":
        target.symlink_to(tmp_path / "missing.json")
    else:
        os.mkfifo(target)  # reading it would block the startup forever
    with pytest.raises(FixtureError) as refused:
        create_app(fixtures_dir=folder, scheduler=False)
    expected = "is not a regular file" if layout == "fifo" else "outside the fixtures folder"
    assert expected in str(refused.value)
    assert str(refused.value).startswith("seed")  # the file (or the seed folder) is named
    assert "root:" not in str(refused.value)  # no content of the file in the message


def test_links_inside_the_fixtures_folder_still_work(tmp_path: Path) -> None:
    """The guard must not refuse a legitimate layout (the shipped fixtures are a symlink too)."""
    folder = fixtures_copy(tmp_path)
    (folder / "seed" / "workflows.json").rename(folder / "kept.json")
    (folder / "seed" / "workflows.json").symlink_to(Path("..", "kept.json"))
    app = create_app(fixtures_dir=folder, scheduler=False)
    assert app.state.mock.store.get_workflow("wf-uuid-001") is not None


def test_cli_refuses_a_seed_outside_with_a_clear_error(tmp_path: Path) -> None:
    """What a user sees: exit 1 and one clear line, no traceback, no file content."""
    folder = fixtures_copy(tmp_path)
    (folder / "seed" / "workflows.json").unlink()
    (folder / "seed" / "workflows.json").symlink_to("/etc/passwd")
    done = subprocess.run(
        [sys.executable, "-m", "lenz_contract", "mock", "--port", "0", "--fixtures", str(folder)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1, done
    assert "cannot start the mock" in done.stderr and "outside the fixtures folder" in done.stderr
    assert "Traceback" not in done.stderr and "root:" not in done.stderr + done.stdout
