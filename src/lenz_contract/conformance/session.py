"""One run's line to the target: the guard, the guarded client, shared fixtures and cleanup.

Cleanup runs whatever happened (failure, exception, Ctrl-C): it waits for requests still in
flight, finds this run's workflows (the ids the guard recorded, and any listed under the run's
name prefix), deletes them, and reports the ones still there.
"""

from __future__ import annotations

import random
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

import httpx

from ..wire import MOCK_HEADER
from .asgi import InProcessTransport
from .client import NO_TOKEN, LenzClient, TransportProblem, build_http
from .context import RunContext
from .guard import Guard, GuardTransport
from .token import TokenError

if TYPE_CHECKING:
    from .checks import CheckRun

T = TypeVar("T")
SWEEP_PAGES = 50


class PreflightError(Exception):
    """The run cannot start (exit 2): unreachable target, refused token, no Lenz API there."""


@dataclass
class CleanupReport:
    deleted: list[str] = field(default_factory=list)
    leftovers: list[str] = field(default_factory=list)
    interrupted: bool = False


class Session:
    """The guard, its transport and the client of one run (close it to clean up)."""

    def __init__(self, ctx: RunContext, inner: httpx.BaseTransport | None = None) -> None:
        self.ctx = ctx
        if inner is None:
            inner = (
                InProcessTransport(ctx.target.app)
                if ctx.target.app is not None
                else httpx.HTTPTransport(proxy=environment_proxy(ctx.target.base_url))
            )
        self.guard = Guard(ctx)
        self.transport = GuardTransport(inner, self.guard, base_path=ctx.target.base_path)
        self.http = build_http(ctx, self.transport)
        self.client = LenzClient(ctx, self.http)
        self._fixtures: dict[str, Any] = {}
        # the Lenz checks draw their names and terms from the run's seed, so a seed replays them
        self.random = random.Random(ctx.seed)

    # -- fixtures --------------------------------------------------------------------------------

    def fixture(self, key: str, run: CheckRun, factory: Callable[[CheckRun], T]) -> T:
        """Build `key` once (with the first check that asks); later checks get the same value,
        or the same skip or setup failure."""
        from .checks import CheckSkipped, SetupFailed

        if key in self._fixtures:
            value, touched = self._fixtures[key]
            if isinstance(value, Exception):
                raise value
            run.touched |= touched  # the requests that built it speak for this check too
            return value  # type: ignore[no-any-return]
        collector: set[str] = set()
        run.collectors.append(collector)
        try:
            value = factory(run)
        except CheckSkipped as exc:
            self._fixtures[key] = (exc, frozenset(collector))
            raise
        except Exception as exc:
            self._fixtures[key] = (SetupFailed(f"{key}: {exc}"), frozenset(collector))
            raise
        finally:
            run.collectors.remove(collector)
        self._fixtures[key] = (value, frozenset(collector))
        return value

    # -- before and after ---------------------------------------------------------------------

    def preflight(self) -> None:
        """Reach the target with the token; set `ctx.is_mock`. Raises `PreflightError`."""
        ctx = self.ctx
        try:
            token = ctx.tokens.current()
        except TokenError as exc:
            raise PreflightError(str(exc)) from None
        if not token:
            raise PreflightError("no token: pass --token or --token-command (or LENZ_TOKEN)")
        client = LenzClient(ctx, self.http, phase="preflight")
        try:
            reply = client.list_workflows(limit=1)
        except TransportProblem as exc:
            raise PreflightError(f"cannot reach {ctx.target.describe()}: {exc}") from None
        if reply.status in (401, 403):
            message = reply.field("message") or reply.exchange.body_excerpt(80)
            raise PreflightError(
                f"the token was refused: GET /api/workflows answered {reply.status} ({message})"
            )
        if reply.status in (404, 405) or (reply.ok and reply.json is None):
            raise PreflightError(
                f"no Lenz Workflows API at {ctx.target.base_url}: "
                f"GET /api/workflows answered {reply.status} {reply.exchange.body_excerpt(80)}"
            )
        ctx.is_mock = bool(reply.headers.get(MOCK_HEADER))

    def unreachable(self) -> str:
        """Why the target no longer answers, or "" when it still does (one short request)."""
        client = LenzClient(self.ctx, self.http, phase="probe")
        try:
            client.list_workflows(limit=1)
        except TransportProblem as exc:
            return str(exc)
        return ""

    def cleanup(self) -> CleanupReport:
        """Delete what this run created; report what is still there."""
        report = CleanupReport()
        self.transport.wait_idle(self.ctx.options.request_timeout)
        if self.ctx.options.read_only:
            return report
        client = LenzClient(self.ctx, self.http, phase="cleanup")
        pending: list[str] = []
        try:
            self._sweep(client)
            pending = list(self.guard.owned)
            while pending:
                workflow_id = pending[0]
                try:
                    reply = client.delete(workflow_id)
                    if reply.ok:
                        report.deleted.append(workflow_id)
                    # a 404 means it was already gone; anything else is verified
                    if reply.status != 404 and client.get(workflow_id).ok:
                        report.leftovers.append(workflow_id)
                except TransportProblem:
                    report.leftovers.append(workflow_id)
                pending.pop(0)
        except KeyboardInterrupt:
            report.interrupted = True
            report.leftovers.extend(pending)
        except TransportProblem:
            report.leftovers.extend(pending)
        return report

    def _sweep(self, client: LenzClient) -> None:
        """Adopt workflows listed under this run's name prefix (a create whose answer was lost)."""
        prefix = self.ctx.name_prefix
        try:
            for page in range(1, SWEEP_PAGES + 1):
                reply = client.list_workflows(page=page, limit=100, search=prefix)
                data = reply.data if isinstance(reply.data, list) else []
                for item in data:
                    if (
                        isinstance(item, dict)
                        and isinstance(item.get("id"), str)
                        and isinstance(item.get("name"), str)
                        and item["name"].startswith(prefix)
                    ):
                        self.guard.adopt(item["id"])
                total = reply.field("total_page")
                if not reply.ok or not data or not isinstance(total, int) or page >= total:
                    break
        except TransportProblem:
            pass

    def close(self) -> None:
        self.http.close()


def environment_proxy(url: str) -> str | None:
    """The proxy `HTTPS_PROXY`/`HTTP_PROXY` name for `url`, unless `NO_PROXY` covers its host."""
    parts = urlsplit(url)
    if parts.hostname and urllib.request.proxy_bypass(parts.hostname):
        return None
    return urllib.request.getproxies().get(parts.scheme)


def garbage_token(ctx: RunContext) -> str:
    """A token no deployment issues (never the real one)."""
    return f"lenz-contract-{ctx.run_id}-not-a-token"


__all__ = ["NO_TOKEN", "CleanupReport", "PreflightError", "Session", "garbage_token"]
