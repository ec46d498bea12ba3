"""PostgreSQL URLs as the mock shows them: the password never, wherever the URL carries it."""

from __future__ import annotations

import pytest

from lenz_contract.mock.config import is_database_url
from lenz_contract.mock.database_url import password, redact_url, scrub, target


@pytest.mark.parametrize(
    ("url", "shown", "secret"),
    [
        ("postgresql://lenz:s%40cret@db:5433/team", "postgresql://lenz:***@db:5433/team", "s@cret"),
        (
            "postgresql://lenz@db/team?sslmode=require&password=hunter2",
            "postgresql://lenz@db/team?sslmode=require&password=***",
            "hunter2",
        ),
        ("postgres://lenz@db/team", "postgres://lenz@db/team", None),
    ],
)
def test_a_password_is_never_shown(url: str, shown: str, secret: str | None) -> None:
    assert redact_url(url) == shown
    assert password(url) == secret
    if secret is not None:
        message = f'connection failed: password "{secret}" refused\n  for user lenz'
        assert scrub(message, url) == 'connection failed: password "***" refused for user lenz'


def test_what_an_error_names_and_what_counts_as_a_database() -> None:
    assert str(target("postgresql://lenz:x@db.internal/team_mock")) == (
        "db.internal:5432, database 'team_mock', user 'lenz'"
    )
    assert is_database_url("PostgreSQL://db/x") and is_database_url("postgres://db/x")
    assert not is_database_url("state.sqlite") and not is_database_url("sqlite://x")
