"""What one conformance run is about: its id, its profile, its target and its options.

Everything a run creates on the target carries the run id in its name, so a run's own data can
be told apart from the data that was there before (which the run must never modify).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from ..spec import Source, Spec, View
from .headers import REDACTED, secret_values
from .token import TokenSource

__all__ = [
    "IN_PROCESS_URL",
    "NAME_PREFIX",
    "Profile",
    "RunContext",
    "RunOptions",
    "Source",
    "Target",
]

NAME_PREFIX = "lenz-contract"
IN_PROCESS_URL = "http://lenz.in-process"


class Profile(StrEnum):
    """Which rules a run asserts (docs/contract-decisions.md, "How the profiles use this").

    `docs` asserts what the docs promise plus universal HTTP rules, against the spec's DOCS
    view (no inferred constraint); `strict` adds the decisions this project took where the docs
    are silent (the mock follows them), against the STRICT view.
    """

    DOCS = "docs"
    STRICT = "strict"

    def includes(self, rule_profile: Profile) -> bool:
        """A strict run asserts docs rules too; a docs run asserts docs rules only."""
        return self is Profile.STRICT or rule_profile is Profile.DOCS

    @property
    def view(self) -> View:
        """The view of the spec whose schemas this profile asserts."""
        return View.DOCS if self is Profile.DOCS else View.STRICT


@dataclass(frozen=True)
class Target:
    """The deployment under test: a base URL, and for in-process runs the ASGI app itself."""

    base_url: str
    app: Any = None

    @classmethod
    def http(cls, base_url: str) -> Target:
        return cls(base_url.rstrip("/"))

    @classmethod
    def in_process(cls, app: Any, base_url: str = IN_PROCESS_URL) -> Target:
        """Talk to `app` through ASGI, with no socket (the URL only names it in reports)."""
        return cls(base_url.rstrip("/"), app)

    @property
    def base_path(self) -> str:
        """The path prefix of the API (`/lenz` in `https://host/lenz`), empty at the root."""
        return urlsplit(self.base_url).path.rstrip("/")

    def describe(self) -> str:
        return f"{self.base_url} (in-process)" if self.app is not None else self.base_url


@dataclass(frozen=True)
class RunOptions:
    """The knobs of `lenz-contract conform`, with the defaults of the command."""

    profile: Profile = Profile.DOCS
    read_only: bool = False
    allow_execute: bool = False
    max_examples: int = 50
    time_budget: float | None = None
    seed: int | None = None
    workers: int = 1
    only: tuple[str, ...] = ()
    exclude_checks: tuple[str, ...] = ()
    rate_limit: float | None = None  # requests per second
    request_timeout: float = 30.0
    generation: bool = True  # the schemathesis phases
    semantic: bool = True  # the Lenz checks
    checks: tuple[str, ...] = ()  # run only these Lenz checks (empty: all of the profile)
    max_retry_after: float = 120.0  # longest single 429 wait honoured before giving up
    execution_timeout: float = 30.0  # how long a run still in progress is polled in the logs
    fail_on_skip: bool = False  # a run that proved less than asked (a skipped check) fails
    token_command: str | None = None  # prints a token; run at start and after a 401
    headers: tuple[tuple[str, str], ...] = ()  # sent with every request (`headers.py`)


def new_run_id() -> str:
    """Short and unique enough to tell one run's data from every other run's."""
    return secrets.token_hex(4)


@dataclass
class RunContext:
    """One run: id, target, token, options and the contract it checks against."""

    target: Target
    token: str
    options: RunOptions = field(default_factory=RunOptions)
    spec: Spec = field(default_factory=Spec.load)
    run_id: str = field(default_factory=new_run_id)
    seed: int = field(default_factory=lambda: secrets.randbelow(2**31))
    is_mock: bool = False

    def __post_init__(self) -> None:
        if self.options.seed is not None:
            self.seed = self.options.seed
        self.tokens = TokenSource(self.token, self.options.token_command)
        self._secrets = secret_values(self.options.headers)

    @property
    def profile(self) -> Profile:
        return self.options.profile

    @property
    def view(self) -> Spec:
        """The contract as this run's profile asserts it (`Profile.view`)."""
        return self.spec.as_view(self.profile.view)

    @property
    def name_prefix(self) -> str:
        """Every workflow this run creates is named `lenz-contract-<run id>-...`."""
        return f"{NAME_PREFIX}-{self.run_id}-"

    @property
    def absent_id(self) -> str:
        """An id no workflow has: never created by anyone, it stands in for ids we may not touch."""
        return f"{NAME_PREFIX}-{self.run_id}-absent"

    @property
    def execute_allowed(self) -> bool:
        """Executing runs real actions on a deployment: only when asked, or against the mock."""
        return not self.options.read_only and (self.options.allow_execute or self.is_mock)

    @property
    def may_write(self) -> bool:
        return not self.options.read_only

    def operations(self) -> list[str]:
        """The operationIds this run covers (`--only`, in document order)."""
        ids = list(self.spec.operations)
        if self.options.only:
            ids = [op for op in ids if op in self.options.only]
        return ids

    def redact(self, text: str) -> str:
        """Never write the token anywhere (reports show `$LENZ_TOKEN` instead), nor the value
        of a secret-looking `--header` (`***`)."""
        text = self.tokens.redact(text)
        for value in self._secrets:
            text = text.replace(value, REDACTED)
        return text
