"""Where a run's bearer token comes from: given once, or printed by a command.

Real deployments hand out short-lived JWTs; a run of several minutes can outlive one. With
`--token-command CMD` the command runs at the start and again after a 401 mid-run, and the
request is sent once more with the new token. Requests carry a placeholder (`$LENZ_TOKEN`,
the same text the reports print) until the guarded transport puts the current token in, at the
last moment: the token itself is never in an exchange, a log line or a report.
"""

from __future__ import annotations

import subprocess
import threading

PLACEHOLDER = "$LENZ_TOKEN"
COMMAND_TIMEOUT = 60.0


class TokenError(Exception):
    """The token command failed, or printed nothing."""


class TokenSource:
    """The run's current token, and every token it has used (to keep them out of reports)."""

    def __init__(self, token: str = "", command: str | None = None) -> None:
        self.command = command or None
        self._token = token
        self._issued: list[str] = [token] if token else []
        self._lock = threading.Lock()
        self.refreshes = 0

    def current(self) -> str:
        """The token to send; the command runs on first use when no token was given."""
        with self._lock:
            if not self._token and self.command is not None:
                self._set(self._run())
            return self._token

    def refresh(self, used: str) -> bool:
        """After a 401 for `used`: get a new token (unless another request already did).

        True when there is a token to try that differs from `used`; False when there is no
        command, or the command prints the token that was just refused (then the 401 is the
        deployment's verdict on the token, not an expiry, and sending again would not help).
        """
        if self.command is None:
            return False
        with self._lock:
            if self._token != used:
                return True  # refreshed meanwhile: try the new one
            fresh = self._run()
            if fresh == used:
                return False
            self._set(fresh)
            self.refreshes += 1
            return True

    def redact(self, text: str) -> str:
        """`text` with every token this run used replaced by `$LENZ_TOKEN`."""
        for token in self._issued:
            if token:
                text = text.replace(token, PLACEHOLDER)
        return text

    def _set(self, token: str) -> None:
        self._token = token
        if token not in self._issued:
            self._issued.append(token)

    def _run(self) -> str:
        assert self.command is not None
        try:
            done = subprocess.run(
                self.command,
                shell=True,
                capture_output=True,
                text=True,
                timeout=COMMAND_TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise TokenError(f"the token command did not finish in {COMMAND_TIMEOUT:g}s") from None
        except OSError as exc:
            raise TokenError(f"the token command could not run: {exc}") from None
        lines = [line.strip() for line in done.stdout.splitlines() if line.strip()]
        if done.returncode != 0:
            # stderr may hold anything: the first line only, and never stdout (the token)
            why = (done.stderr.strip().splitlines() or ["no message"])[0][:200]
            raise TokenError(f"the token command exited {done.returncode}: {why}")
        if not lines:
            raise TokenError("the token command printed no token")
        token = lines[-1].removeprefix("Bearer ").strip()
        if any(c.isspace() for c in token):
            raise TokenError("the token command printed a line with spaces, not one token")
        return token
