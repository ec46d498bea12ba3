"""Options several commands share, defined once so that they cannot drift apart again.

Each option keeps the parameter name its commands had (`spec_path`, `cors_origins`, ...):
the config file keys (`[mock] cors-origins = [...]`, see cli/config.py) and the environment
variables (`LENZ_PROXY_LOG_LEVEL`) are derived from it, so renaming one would break them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from ..spec import Spec, SpecError, SpecProblem

F = TypeVar("F", bound=Callable[..., Any])

LOG_LEVELS = ("critical", "error", "warning", "info", "debug")
EXISTING_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)
FILE_PATH = click.Path(dir_okay=False, path_type=Path)
"""A file that need not exist: one the command writes, or reads only when it is there."""


def split_origins(
    ctx: click.Context | None, param: click.Parameter | None, values: tuple[str, ...]
) -> tuple[str, ...]:
    """`--cors-origin a --cors-origin b,c` → (a, b, c): trimmed, empty parts dropped.

    A click callback rather than code in each command, so that values from the config file
    and the environment are split the same way as flags.
    """
    return tuple(part.strip() for value in values for part in value.split(",") if part.strip())


def host_option(function: F) -> F:
    return click.option(
        "--host", default="127.0.0.1", show_default=True, help="Address to listen on."
    )(function)


def port_option(default: int) -> Callable[[F], F]:
    """`--port`; each server has its own default so that the mock and the proxy can run side
    by side (mock 4010, proxy 4011)."""
    return click.option(
        "--port",
        default=default,
        show_default=True,
        type=click.IntRange(0, 65535),
        help="Port to listen on.",
    )


def cors_origin_option(default: str) -> Callable[[F], F]:
    """`--cors-origin`, repeatable and comma-separated; `default` says what no origin means for
    this command (the mock allows any origin, the proxy leaves CORS to the upstream)."""
    return click.option(
        "--cors-origin",
        "cors_origins",
        multiple=True,
        metavar="ORIGIN",
        callback=split_origins,
        help=f"Browser origin allowed by CORS (repeatable or comma-separated); default {default}.",
    )


def log_level_option(function: F) -> F:
    return click.option(
        "--log-level",
        default="warning",
        show_default=True,
        type=click.Choice(LOG_LEVELS),
        help="uvicorn's log level.",
    )(function)


def spec_option(purpose: str, *, name: str = "spec_path") -> Callable[[F], F]:
    """`--spec FILE`: a contract other than the shipped one (None means the shipped one).

    `name` only keeps the parameter name a command already had (`spec examples` has `spec`).
    """
    return click.option(
        "--spec",
        name,
        type=EXISTING_FILE,
        help=f"Spec file to {purpose} (default: the shipped contract).",
    )


def fixtures_option(purpose: str, *, name: str = "fixtures_dir") -> Callable[[F], F]:
    """`--fixtures DIR`: a fixtures folder in the shipped layout (seed/, docs/), such as one
    `proxy --record` wrote (None means the shipped fixtures)."""
    return click.option(
        "--fixtures",
        name,
        type=click.Path(exists=True, file_okay=False, path_type=Path),
        help=f"Fixtures folder {purpose} (default: the shipped fixtures).",
    )


def overlay_option(
    purpose: str, *, flag: str = "--overlay", name: str = "overlay", required: bool = False
) -> Callable[[F], F]:
    """`--overlay FILE`: an OpenAPI Overlay 1.0 applied to the spec first (`spec/overlay.py`),
    e.g. the one `lenz-contract drift --overlay` wrote, to try an amended contract before
    editing the shipped one. `drift` names it `--spec-overlay`: its `--overlay` is one it writes.
    """
    return click.option(
        flag,
        name,
        required=required,
        type=EXISTING_FILE,
        help=f"OpenAPI Overlay 1.0 applied to the spec before {purpose}.",
    )


def written_file_option(flag: str, name: str, help: str) -> Callable[[F], F]:
    """A file the command writes besides what it prints (a report, a log, an overlay)."""
    return click.option(flag, name, type=FILE_PATH, help=help)


def output_option(what: str, *, short: bool = False) -> Callable[[F], F]:
    """`--output FILE` (with `short`, also `-o`): where `what` goes instead of standard output."""
    flags = ("--output", "-o") if short else ("--output",)
    return click.option(
        *flags, "output", type=FILE_PATH, help=f"Write {what} here instead of printing it."
    )


def format_option(formats: tuple[str, ...]) -> Callable[[F], F]:
    """`--format`: how the report is shown, the first of `formats` by default."""
    return click.option(
        "--format",
        "format",
        type=click.Choice(formats),
        default=formats[0],
        show_default=True,
        help="How the report is printed (or written with --output).",
    )


def load_contract(spec_path: Path | None, overlay_path: Path | None) -> Spec:
    """The contract a command works on: the shipped one or `--spec`, amended by `--overlay`.

    An amended spec is checked for `$ref`s that no longer resolve (an overlay that removed a
    schema something still refers to), so the command fails here, with the place, rather than
    deep inside a validator. Raises `SpecError`.
    """
    spec = Spec.load(spec_path, overlay=overlay_path)
    try:
        _ = spec.operations  # read once here: a malformed document fails with its name
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        where = f"{spec_path or 'the shipped spec'}" + (
            f" + {overlay_path}" if overlay_path else ""
        )
        raise SpecError(
            [SpecProblem(where, f"its operations cannot be read ({type(exc).__name__}: {exc})")]
        ) from None
    if overlay_path is not None:
        from ..spec.checks import check_refs  # openapi-spec-validator: only when needed

        problems = check_refs(spec.document)
        if problems:
            raise SpecError(
                [SpecProblem(f"{overlay_path} applied: {p.location}", p.message) for p in problems]
            )
    return spec
