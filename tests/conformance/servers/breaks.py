"""The catalogue of ways the test server can vary, and what a conformance run should say.

Each name changes exactly one behaviour of the correct server (`lenz.py` tests each with a named
conditional). Most are breaks: they break a rule of the docs, and both profiles must fail them.
`STRICT_ONLY` variations are legitimate, because the docs leave the point open (a status, an
order, a default, how strict validation is): they deviate from our inferred decisions only, so
the `docs` profile must pass them. `HARMLESS` variations are legal in both readings, so both
profiles must pass them.
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
    "execute_not_finished": (
        'the run never finishes: execute answers status "running" and finished_at null, '
        "and the logs show it so forever"
    ),
    "unknown_id_500": "an unknown workflow id answers 500",
    "wrong_type_accepted": "a `name` that is not a string (5) is accepted, stored as str(value)",
    "logs_page_ignored": "the logs answer the first page's items whatever `page` says",
    "logs_total_page_rounded_down": "the logs' total_page = total_data // limit",
    "logs_foreign_entries": "the logs of a workflow also list every other workflow's runs",
    "created_active": "a create stores and answers is_active true whatever the body says",
    "description_not_stored": 'description is never stored: answers carry description ""',
    "manual_run_as_schedule": 'execute records trigger_type "schedule", triggered_by "scheduler"',
    # legitimate (the docs leave this open): the docs profile passes them
    "unknown_id_400": "an unknown workflow id answers 400 with the error envelope",
    "cron_not_validated": "an invalid cron is accepted",
    "config_not_round_tripped": "node configs lose every key but the first in answers",
    "logs_oldest_first": "logs are listed oldest first",
    "create_answers_200": "create answers 200 instead of 201",
    "empty_total_page_one": "total_page is 1 when there is no data",
    "bad_input_accepted": "a body missing `name` is accepted (201)",
    "auth_403": "a missing or garbage bearer token answers 403 with the error envelope",
    "auth_bare": 'a missing or garbage token answers 401 {"message": "invalid or expired jwt"}',
    "auth_missing_400": (
        'echo-jwt: no `Bearer x` header answers 400 {"message": "missing or malformed jwt"}, '
        'an unknown token 401 {"message": "invalid or expired jwt"}'
    ),
    "wrong_method_404": "a method a known path lacks answers 404 (no Allow) instead of 405",
    "query_fallback": "a page or limit that is not an integer ≥ 1 falls back to 1 or 10",
    "limit_uncapped": "limit is not capped (limit=1000 answers limit 1000)",
    "limit_cap_50": "limit is capped at 50",
    "list_newest_first": "workflows are listed newest first",
    "timestamps_offset": "timestamps are written with +07:00 and milliseconds",
    "description_null": "a body without `description` stores and answers description null",
    "description_absent": "a body without `description` answers workflows without the key",
    "messages_changed": 'every success message is "OK"',
    "put_merge": "PUT merges: fields it sends replace, fields it leaves out keep their value",
    "logs_unknown_empty": "the logs of an unknown workflow id answer 200 with an empty page",
    "execute_async": (
        "execute answers the run running; the first logs read shows it running, later ones finished"
    ),
    "execute_refuses_inactive": 'executing an inactive workflow answers 400 "workflow is inactive"',
    "loose_validation": (
        "bodies are checked only for what the docs state (JSON object, field types); "
        "missing, null, empty or extra fields are accepted"
    ),
    # legal variations: both profiles must pass them (no false alarms)
    "extra_fields": "answers carry `request_id`, workflows `owner` (extra properties)",
    "rate_limited": "every 7th request answers 429 with Retry-After: 1",
    "slow": "every answer is delayed 20 ms",
    "json_charset": "every answer is application/json; charset=utf-8",
}

STRICT_ONLY: frozenset[str] = frozenset(
    {
        "unknown_id_400",
        "cron_not_validated",
        "config_not_round_tripped",
        "logs_oldest_first",
        "create_answers_200",
        "empty_total_page_one",
        "bad_input_accepted",
        "auth_403",
        "auth_bare",
        "auth_missing_400",
        "wrong_method_404",
        "query_fallback",
        "limit_uncapped",
        "limit_cap_50",
        "list_newest_first",
        "timestamps_offset",
        "description_null",
        "description_absent",
        "messages_changed",
        "put_merge",
        "logs_unknown_empty",
        "execute_async",
        "execute_refuses_inactive",
        "loose_validation",
    }
)

HARMLESS: frozenset[str] = frozenset({"extra_fields", "rate_limited", "slow", "json_charset"})
