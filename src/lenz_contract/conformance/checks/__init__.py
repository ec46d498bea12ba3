"""The Lenz checks: rules of the API that no schema can express, one small function each.

`registry` holds what every check is and rests on (one `Check` record, `@lenz_check` for the
checks that talk to the target, `@exchange_check` for those that judge every answer); `run`
holds what a check sees while it runs (`CheckRun`). Each other module is a family of checks,
found by `load_all()`: pagination, search, crud, execution, auth, errors, responses.
"""

from .registry import (
    ALL,
    JSON_CONTENT,
    ON_AN_ID,
    REGISTRY,
    Check,
    exchange_check,
    exchange_checks,
    families,
    lenz_check,
    load_all,
    semantic_checks,
)
from .run import (
    DORMANT_CRON,
    CheckAborted,
    CheckRun,
    CheckSkipped,
    SetupFailed,
    as_json,
    ids_of,
    items_of,
)

__all__ = [
    "ALL",
    "DORMANT_CRON",
    "JSON_CONTENT",
    "ON_AN_ID",
    "REGISTRY",
    "Check",
    "CheckAborted",
    "CheckRun",
    "CheckSkipped",
    "SetupFailed",
    "as_json",
    "exchange_check",
    "exchange_checks",
    "families",
    "ids_of",
    "items_of",
    "lenz_check",
    "load_all",
    "semantic_checks",
]
