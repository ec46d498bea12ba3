# The project's own mypy run sees this file without the generated package; the test that runs
# it checks it with `mypy --strict` next to the package (tests/integration/test_generated_clients.py).
# mypy: disable-error-code="import-not-found"
"""The frontend journey with the client openapi-python-client generates from the shipped spec.

The same steps as tests/typescript/journey.ts: create, read, list/search, update, execute,
logs, delete. `mypy --strict` proves the generated types fit the code; running it against a real
mock proves the answers fit them. The generated package (`lenz_client`) is on PYTHONPATH.
"""

from __future__ import annotations

import os
import time

from lenz_client import AuthenticatedClient
from lenz_client.api.execution import execute_workflow
from lenz_client.api.execution_history import list_workflow_logs
from lenz_client.api.workflows import (
    create_workflow,
    delete_workflow,
    get_workflow,
    list_workflows,
    update_workflow,
)
from lenz_client.models import (
    ErrorEnvelope,
    EventHistoryExportConfig,
    EventHistoryExportNodeInput,
    ExecutionPage,
    ExecutionResponse,
    ScheduleConfig,
    ScheduleTriggerNodeInput,
    SuccessEnvelope,
    TelegramSendAttachmentConfig,
    TelegramSendAttachmentNodeInput,
    WorkflowInput,
    WorkflowPage,
    WorkflowResponse,
)


def check(condition: object, what: str) -> None:
    if not condition:
        raise SystemExit(f"journey failed: {what}")


def main() -> None:
    base_url = os.environ.get("LENZ_BASE_URL", "http://127.0.0.1:4010")
    client = AuthenticatedClient(base_url=base_url, token=os.environ.get("LENZ_TOKEN", ""))
    unique = f"Laporan Harian Py {time.time_ns()}"
    body = WorkflowInput(
        name=unique,
        description="Ekspor riwayat Face Recognition setiap pagi lalu kirim via Telegram",
        is_active=False,
        trigger_node=ScheduleTriggerNodeInput(
            type_="schedule", config=ScheduleConfig(cron="0 0 7 * * *")
        ),
        nodes=[
            EventHistoryExportNodeInput(
                id="node-export",
                type_="event_history_export",
                name="Ekspor Riwayat FR Kemarin",
                config=EventHistoryExportConfig(
                    analytic_type="FR",
                    date_range="yesterday",
                    format_="csv",
                    output_dir="/exports/fr",
                ),
            ),
            TelegramSendAttachmentNodeInput(
                id="node-telegram",
                type_="telegram_send_attachment",
                name="Kirim Laporan ke Telegram",
                config=TelegramSendAttachmentConfig(
                    credential_id="cred-tg-001", file="{{prev.body.file_url}}"
                ),
            ),
        ],
    )

    created = create_workflow.sync(client=client, body=body)
    check(isinstance(created, WorkflowResponse), f"create answered {created!r}")
    assert isinstance(created, WorkflowResponse)
    check(created.data.updated_at is None, "updated_at is null right after create")
    workflow_id = created.data.id

    read = get_workflow.sync(workflow_id, client=client)
    check(isinstance(read, WorkflowResponse) and read.data.name == unique, "it reads back")

    found = list_workflows.sync(client=client, search=unique[8:20].lower(), page=1, limit=5)
    check(isinstance(found, WorkflowPage), f"list answered {found!r}")
    assert isinstance(found, WorkflowPage)
    check(any(w.id == workflow_id for w in found.data), "search finds the new workflow")
    check(found.current_page == 1 and found.limit == 5, "paging echoes page and limit")

    body.description = "Nonaktifkan sementara untuk maintenance"
    updated = update_workflow.sync(workflow_id, client=client, body=body)
    check(isinstance(updated, WorkflowResponse) and updated.data.updated_at, "update sets it")

    run = execute_workflow.sync(workflow_id, client=client)
    check(isinstance(run, ExecutionResponse), f"execute answered {run!r}")
    assert isinstance(run, ExecutionResponse)
    execution = run.data
    order = ",".join(n.node_id for n in execution.node_results)
    check(order == "node-export,node-telegram", "nodes run in order")
    output = execution.node_results[0].output
    check(output is not None and isinstance(output["file_url"], str), "the export made a file")

    logs = list_workflow_logs.sync(workflow_id, client=client, page=1)
    check(isinstance(logs, ExecutionPage), f"logs answered {logs!r}")
    assert isinstance(logs, ExecutionPage)
    check(any(e.id == execution.id for e in logs.data), "the run is in the logs")

    deleted = delete_workflow.sync(workflow_id, client=client)
    check(isinstance(deleted, SuccessEnvelope), f"delete answered {deleted!r}")
    assert isinstance(deleted, SuccessEnvelope)
    check(deleted.message == "workflow deleted successfully", "the documented message")

    gone = get_workflow.sync_detailed(workflow_id, client=client)
    check(
        gone.status_code == 404 and isinstance(gone.parsed, ErrorEnvelope),
        "a deleted workflow answers 404 with the error envelope",
    )
    print(f"journey ok: {workflow_id} created, read, found, updated, executed, logged, deleted")


if __name__ == "__main__":
    main()
