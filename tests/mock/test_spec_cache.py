"""The start-up cache of parsed specs: same spec, same validators, as strict as ever."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from lenz_contract.mock import spec_cache
from lenz_contract.mock.runtime import SpecRuntime
from lenz_contract.spec import SHIPPED_SPEC_PATH, View


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv(spec_cache.CACHE_ENV, str(folder))
    return folder


def spec_copy(tmp_path: Path, edit: str = "") -> Path:
    path = tmp_path / "spec.yaml"
    path.write_text(SHIPPED_SPEC_PATH.read_text(encoding="utf-8") + edit, encoding="utf-8")
    return path


def test_a_warm_start_reads_the_same_spec_and_compiles_on_first_use(
    cache: Path, tmp_path: Path
) -> None:
    path = spec_copy(tmp_path)
    cold = SpecRuntime.load(path)
    assert len(list(cache.iterdir())) == 1
    compiled_cold = cold.plans["getWorkflow"].response_checks._compiled
    assert compiled_cold  # no entry for this file: everything compiled before serving

    warm = SpecRuntime.load(path)
    assert warm.spec.document == cold.spec.document
    assert warm.spec.as_view(View.STRICT).document == cold.spec.as_view(View.STRICT).document
    plan = warm.plans["getWorkflow"]
    assert not plan.response_checks._compiled  # compiled on first use
    documented, check = plan.response_check(200)
    assert documented and check is not None
    assert check is warm.spec.validator(check.pointer, view=View.STRICT)
    assert check.errors({"ok": True}, "response")  # as strict as the cold one
    assert cold.plans["getWorkflow"].response_check(200)[1].errors({"ok": True}, "response")  # type: ignore[union-attr]


def test_another_file_or_no_cache_compiles_everything_first(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    SpecRuntime.load(spec_copy(tmp_path))
    edited = SpecRuntime.load(spec_copy(tmp_path, "\n# edited\n"))
    assert edited.plans["getWorkflow"].response_checks._compiled
    assert len(list(cache.iterdir())) == 2
    monkeypatch.setenv(spec_cache.CACHE_ENV, "off")
    assert spec_cache.cache_folder() is None
    assert SpecRuntime.load(spec_copy(tmp_path)).plans["getWorkflow"].response_checks._compiled


def test_a_schema_that_does_not_compile_still_stops_the_start(cache: Path, tmp_path: Path) -> None:
    document = yaml.safe_load(SHIPPED_SPEC_PATH.read_text(encoding="utf-8"))
    document["components"]["schemas"]["ErrorEnvelope"] = {"type": "no-such-type"}
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    with pytest.raises(ValueError):
        SpecRuntime.load(path)
    assert not cache.exists() or not list(cache.iterdir())  # nothing vouched for it
    with pytest.raises(ValueError):
        SpecRuntime.load(path)


@pytest.mark.parametrize(
    "document",
    [
        {"openapi": "3.1.0", "x-when": date(2025, 1, 15)},  # YAML reads an unquoted date
        {"openapi": "3.1.0", "responses": {200: {"description": "ok"}}},  # an integer key
        {"openapi": "3.1.0", "x-nan": float("nan")},
    ],
)
def test_a_document_json_cannot_carry_is_not_cached(cache: Path, document: dict[str, Any]) -> None:
    assert not spec_cache.write(b"spec", spec_cache.CachedSpec(document))
    assert spec_cache.read(b"spec") is None
    assert spec_cache.write(b"spec", spec_cache.CachedSpec({"openapi": "3.1.0"}))
    assert spec_cache.read(b"spec") == spec_cache.CachedSpec({"openapi": "3.1.0"})


def test_a_damaged_cache_file_is_ignored(cache: Path, tmp_path: Path) -> None:
    path = spec_copy(tmp_path)
    SpecRuntime.load(path)
    (entry,) = cache.iterdir()
    entry.write_bytes(b"{not json")
    again = SpecRuntime.load(path)
    assert again.plans["getWorkflow"].response_checks._compiled
    assert again.spec.document == yaml.safe_load(path.read_text(encoding="utf-8"))
