"""The catalogue of ways the test server can be broken, and what a conformance run should say.

Each name breaks exactly one rule of the correct server (`lenz.py` tests each with a named
conditional). `STRICT_ONLY` breaks deviate from our inferred decisions only, so the `docs`
profile must pass them; `HARMLESS` variations are legal, so both profiles must pass them. Every
other break must fail both profiles.
"""

from __future__ import annotations

BREAKS: dict[str, str] = {
    # fail both profiles
    "wrong_shape": "workflow items lack `created_at`",
    "server_error_on_bad_json": "a malformed JSON body answers 500 text/plain",
    "wrong_content_type": "success answers are text/plain (same JSON text)",
    "auth_ignored": "a missing or garbage bearer token is accepted",
    "search_case_sensitive": "search is a case-sensitive substring match",
    "search_exact": "search matches only the whole name",
    "total_page_rounded_down": "total_page = total_data // limit",
    "page_ignored": "every page answers the first page's items (current_page echoes page)",
    "limit_ignored": "always 10 items per page (the given limit is echoed)",
    "current_page_wrong": "current_page is always 1",
    "update_not_persisted": "PUT answers the new body but does not store it",
    "updated_at_not_moved": "PUT leaves updated_at unchanged (null after create)",
    "created_at_changes": "PUT sets created_at to now",
    "delete_not_deleting": "DELETE answers success but the workflow stays",
    "deleted_still_listed": "a deleted workflow 404s on get but is still listed",
    "execution_missing_from_logs": "execute answers but the run never shows in /logs",
    "node_results_out_of_order": "node_results come in reverse pipeline order",
    "execute_not_finished": 'execute answers status "running" and finished_at null',
    "unknown_id_500": "an unknown workflow id answers 500",
    "bad_input_accepted": "a body missing `name` is accepted (201)",
    # deviate from the strict decisions only: the docs profile passes them
    "unknown_id_400": "an unknown workflow id answers 400 with the error envelope",
    "cron_not_validated": "an invalid cron is accepted",
    "config_not_round_tripped": "node configs lose every key but the first in answers",
    "logs_oldest_first": "logs are listed oldest first",
    "create_answers_200": "create answers 200 instead of 201",
    "empty_total_page_one": "total_page is 1 when there is no data",
    # legal variations: both profiles must pass them (no false alarms)
    "extra_fields": "answers carry `request_id`, workflows `owner` (extra properties)",
    "rate_limited": "every 7th request answers 429 with Retry-After: 1",
    "slow": "every answer is delayed 20 ms",
}

STRICT_ONLY: frozenset[str] = frozenset(
    {
        "unknown_id_400",
        "cron_not_validated",
        "config_not_round_tripped",
        "logs_oldest_first",
        "create_answers_200",
        "empty_total_page_one",
    }
)

HARMLESS: frozenset[str] = frozenset({"extra_fields", "rate_limited", "slow"})
