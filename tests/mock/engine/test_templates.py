"""`{{prev.body.<path>}}` resolution: typed whole values, text interpolation, located failures."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lenz_contract.mock.templates import TemplateError, resolve_config

PREV: dict[str, Any] = {
    "file_url": "/exports/fr/2025-04-29.csv",
    "date": "2025-04-29",
    "rows": 1874,
    "ok": True,
    "nothing": None,
    "items": [{"url": "/a.csv"}, {"url": "/b.csv"}],
    "meta": {"tags": ["fr", "daily"]},
}


def test_whole_value_template_keeps_the_referenced_type() -> None:
    config = {
        "file": "{{prev.body.file_url}}",
        "rows": "{{prev.body.rows}}",
        "ok": "{{prev.body.ok}}",
        "nothing": "{{prev.body.nothing}}",
        "items": "{{prev.body.items}}",
        "first": "{{prev.body.items.0.url}}",
        "all": "{{prev.body}}",
    }
    assert resolve_config(config, PREV) == {
        "file": "/exports/fr/2025-04-29.csv",
        "rows": 1874,
        "ok": True,
        "nothing": None,
        "items": PREV["items"],
        "first": "/a.csv",
        "all": PREV,
    }


def test_templates_inside_text_are_interpolated() -> None:
    config = {
        "caption": "Laporan FR harian — {{prev.body.date}}",
        "summary": "{{prev.body.rows}} rows, ok={{prev.body.ok}}, none={{prev.body.nothing}}",
        "tags": "tags: {{prev.body.meta.tags}}",
        "two": "{{prev.body.date}}{{prev.body.date}}",
    }
    assert resolve_config(config, PREV) == {
        "caption": "Laporan FR harian — 2025-04-29",
        "summary": "1874 rows, ok=true, none=null",
        "tags": 'tags: ["fr", "daily"]',
        "two": "2025-04-292025-04-29",
    }


def test_nested_config_is_resolved_everywhere_and_keys_are_left_alone() -> None:
    config = {
        "{{prev.body.date}}": "key is not a template",
        "headers": {"x-file": "{{prev.body.items.1.url}}"},
        "list": ["{{prev.body.rows}}", {"deep": ["at {{prev.body.date}}"]}, 7, None],
        "plain": "no template here {not} {{ unclosed",
    }
    assert resolve_config(config, PREV) == {
        "{{prev.body.date}}": "key is not a template",
        "headers": {"x-file": "/b.csv"},
        "list": [1874, {"deep": ["at 2025-04-29"]}, 7, None],
        "plain": "no template here {not} {{ unclosed",
    }


def test_the_input_config_is_not_modified_and_the_output_not_shared() -> None:
    config = {"nested": {"file": "{{prev.body.file_url}}"}, "items": "{{prev.body.items}}"}
    resolved = resolve_config(config, PREV)
    assert config == {"nested": {"file": "{{prev.body.file_url}}"}, "items": "{{prev.body.items}}"}
    assert resolved["items"] == PREV["items"] and resolved["items"] is not PREV["items"]


@pytest.mark.parametrize(
    "template", ["{{ prev.body.date }}", "{{prev.body.date  }}", "{{\tprev.body.date\n}}"]
)
def test_whitespace_inside_the_braces_is_tolerated(template: str) -> None:
    assert resolve_config({"d": template, "t": f"on {template}"}, PREV) == {
        "d": "2025-04-29",
        "t": "on 2025-04-29",
    }


@pytest.mark.parametrize(
    ("config", "prev", "message"),
    [
        (
            {"caption": "{{prev.body.date}}"},
            {"file_url": "/x.csv"},
            "config.caption: {{prev.body.date}} cannot be resolved: "
            "previous output has no key 'date'",
        ),
        (
            {"caption": "Laporan — {{ prev.body.date }}"},
            None,
            "config.caption: {{ prev.body.date }} cannot be resolved: "
            "there is no previous node (this is the first node of the pipeline)",
        ),
        (
            {"file": "{{prev.body.items.5.url}}"},
            PREV,
            "config.file: {{prev.body.items.5.url}} cannot be resolved: "
            "'items' of the previous output has 2 items; index 5 is out of range",
        ),
        (
            {"file": "{{prev.body.items.first}}"},
            PREV,
            "config.file: {{prev.body.items.first}} cannot be resolved: "
            "'items' of the previous output is a list; 'first' is not an index",
        ),
        (
            {"file": "{{prev.body.items.0.path}}"},
            PREV,
            "config.file: {{prev.body.items.0.path}} cannot be resolved: "
            "'items.0' of the previous output has no key 'path'",
        ),
        (
            {"file": "{{prev.body.rows.count}}"},
            PREV,
            "config.file: {{prev.body.rows.count}} cannot be resolved: "
            "'rows' of the previous output is a number, not an object or a list; it has no 'count'",
        ),
        (
            {"file": "{{env.HOME}}"},
            PREV,
            "config.file: {{env.HOME}} cannot be resolved: "
            "only {{prev.body.<path>}} templates are supported",
        ),
        (
            {"file": "{{prev.date}}"},
            PREV,
            "config.file: {{prev.date}} cannot be resolved: "
            "only {{prev.body.<path>}} templates are supported",
        ),
        (
            {"file": "{{ }}"},
            PREV,
            "config.file: {{ }} cannot be resolved: only {{prev.body.<path>}} templates are supported",
        ),
        (
            {"file": "{{prev.body..date}}"},
            PREV,
            "config.file: {{prev.body..date}} cannot be resolved: the path has an empty segment",
        ),
        (
            {"outer": {"list": ["ok", "{{prev.body.missing}}"]}},
            PREV,
            "config.outer.list[1]: {{prev.body.missing}} cannot be resolved: "
            "previous output has no key 'missing'",
        ),
    ],
)
def test_unresolvable_templates_name_the_key_and_the_template(
    config: dict[str, Any], prev: dict[str, Any] | None, message: str
) -> None:
    with pytest.raises(TemplateError) as caught:
        resolve_config(config, prev)
    assert str(caught.value) == message
    assert caught.value.key_path == message.split(":", 1)[0]


json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
keys = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_-0123456789", min_size=1, max_size=8)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
    max_leaves=20,
)


def _paths(value: Any, prefix: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    """Every path into `value` with what it leads to (the value itself included)."""
    found = [(prefix, value)]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, str(index)))
    return found


@settings(max_examples=200, deadline=None)
@given(output=st.dictionaries(keys, json_values, max_size=5), data=st.data())
def test_whole_value_templates_round_trip_any_json_output(
    output: dict[str, Any], data: st.DataObject
) -> None:
    path, expected = data.draw(st.sampled_from(_paths(output)))
    template = "{{" + ".".join(("prev", "body", *path)) + "}}"
    assert resolve_config({"value": template}, output) == {"value": expected}
