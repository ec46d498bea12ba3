"""A frontend developer's toolchain: types from the shipped spec, a typed client, a real mock.

openapi-typescript generates the types, `tsc --strict` compiles the journey against them, and
node runs it with openapi-fetch against a mock served by uvicorn: if the generated types do not
fit the code, or the mock's answers do not fit the journey's expectations, the test fails. A
config typo (`typos/`) must not compile. Runs wherever Node.js and npm are installed (CI
machines have them); the other generators are `test_generated_clients.py`'s.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lenz_contract.mock import create_app
from lenz_contract.spec import SHIPPED_SPEC_PATH

from ..support.live import serve
from .node_tools import (
    NODE,
    TYPO_PROGRAMS,
    assert_compiled,
    assert_typo_refused,
    fresh,
    needs_node,
    node_bin,
    npm_ci,
    run,
    tsc,
)

HERE = Path(__file__).resolve().parent.parent / "typescript"

pytestmark = needs_node


@pytest.fixture(scope="module")
def compiled_journey() -> Path:
    npm_ci(HERE)
    (HERE / "generated").mkdir(exist_ok=True)
    run(
        [
            *node_bin(HERE, "openapi-typescript"),
            str(SHIPPED_SPEC_PATH),
            "-o",
            "generated/lenz.d.ts",
        ],
        HERE,
    )
    fresh(HERE / "build")
    tsc(HERE, "-p", "tsconfig.json")
    return HERE / "build" / "journey.js"


def test_generated_types_are_usable(compiled_journey: Path) -> None:
    types = (HERE / "generated" / "lenz.d.ts").read_text()
    assert '"/api/workflows/{id}/execute"' in types
    empty = re.findall(r"^\s+[\w$]+\??: .*Record<string, never>.*$", types, re.M)
    assert empty == [], f"free-form objects generated as empty types: {empty}"
    assert compiled_journey.is_file()


def test_node_configs_are_typed_by_node_type(compiled_journey: Path) -> None:
    types = (HERE / "generated" / "lenz.d.ts").read_text()
    schema = 'components["schemas"]'
    union = f'{schema}["EventHistoryExportNodeInput"] | {schema}["TelegramSendAttachmentNodeInput"]'
    assert f"}} & ({union});" in types
    assert f'config: {schema}["EventHistoryExportConfig"];' in types


def test_typed_client_runs_the_frontend_journey_against_the_mock(compiled_journey: Path) -> None:
    assert NODE
    with serve(create_app(self_check=True)) as base_url:
        done = run(
            [NODE, str(compiled_journey)],
            HERE,
            env={"LENZ_BASE_URL": base_url, "LENZ_TOKEN": "lenz-mock-token"},
        )
    assert "journey ok:" in done.stdout


def test_the_typo_programs_compile_without_their_typos(compiled_journey: Path) -> None:
    assert_compiled(HERE)


@pytest.mark.parametrize("program", sorted(TYPO_PROGRAMS))
def test_a_config_typo_does_not_compile(compiled_journey: Path, program: str) -> None:
    assert_typo_refused(HERE, program)
