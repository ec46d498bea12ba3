"""The conformance suite as pytest tests (collected by `pytest --pyargs lenz_contract.conformance`).

One test per Lenz check, one per operation for schemathesis's phases, one for the exchange
checks; everything runs through one session-wide run (see `pytest_plugin`).
"""

from __future__ import annotations

import pytest

from .pytest_plugin import PluginRun, build_context, enabled, verdict


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    config = metafunc.config
    if not enabled(config):
        names: list[str] = []
        operations: list[str] = []
    else:
        from .generation import selected_operations
        from .runner import selected_checks

        ctx = build_context(config)
        names = [c.name for c in selected_checks(ctx)]
        operations = selected_operations(ctx) if ctx.options.generation else []
    if "lenz_check_name" in metafunc.fixturenames:
        metafunc.parametrize("lenz_check_name", names or [pytest.param("-", marks=_off())])
    if "lenz_operation" in metafunc.fixturenames:
        metafunc.parametrize("lenz_operation", operations or [pytest.param("-", marks=_off())])


def _off() -> pytest.MarkDecorator:
    return pytest.mark.skip(reason="the Lenz conformance suite needs --lenz-base-url")


def test_lenz_check(lenz_run: PluginRun, lenz_check_name: str) -> None:
    from .checks import semantic_checks

    check = semantic_checks()[lenz_check_name]
    verdict(lenz_run.result, lenz_run.check(check))


def test_lenz_generated(lenz_run: PluginRun, lenz_operation: str) -> None:
    from .profiles import BUILTIN

    result = lenz_run.generated()
    outcomes = [
        o for (op, name), o in result.outcomes.items() if op == lenz_operation and name in BUILTIN
    ]
    if result.interrupted:
        pytest.fail("the generated phases were interrupted")
    verdict(result, outcomes)


def test_lenz_exchanges(lenz_run: PluginRun) -> None:
    from .checks import exchange_checks

    result = lenz_run.audit()
    from .runner import SAFETY_RULE

    audited = {*exchange_checks(), SAFETY_RULE.check}
    verdict(result, [o for (_, name), o in result.outcomes.items() if name in audited])


def test_lenz_ready(pytestconfig: pytest.Config) -> None:
    """Says in the summary whether the suite ran (a skip without --lenz-base-url)."""
    if not enabled(pytestconfig):
        pytest.skip("the Lenz conformance suite needs --lenz-base-url")
    ctx = build_context(pytestconfig)
    assert ctx.token or ctx.options.token_command, (
        "no token: pass --lenz-token or --lenz-token-command (or set LENZ_TOKEN)"
    )
