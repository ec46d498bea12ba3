// The frontend journey with the fetch client orval generates from the shipped spec (with the
// `lenz-fetch.ts` mutator for the base URL and the token): the same steps as
// tests/typescript/journey.ts. `tsc --strict` proves the generated types fit the code; running
// it against a real mock proves the answers fit them. CommonJS: orval imports its mutator
// without a file extension, which Node's ES module loader does not resolve.
import {
  createWorkflow,
  deleteWorkflow,
  executeWorkflow,
  getWorkflow,
  listWorkflowLogs,
  listWorkflows,
  updateWorkflow,
} from "./generated/lenz";
import type { Execution, Workflow, WorkflowInput } from "./generated/lenz";

function check(condition: unknown, what: string): asserts condition {
  if (!condition) throw new Error(`journey failed: ${what}`);
}

const unique = `Laporan Harian Orval ${Date.now()}`;
const body: WorkflowInput = {
  name: unique,
  description: "Ekspor riwayat Face Recognition setiap pagi lalu kirim via Telegram",
  is_active: false,
  trigger_node: { type: "schedule", config: { cron: "0 0 7 * * *" } },
  nodes: [
    {
      id: "node-export",
      type: "event_history_export",
      name: "Ekspor Riwayat FR Kemarin",
      config: { analytic_type: "FR", date_range: "yesterday", format: "csv", output_dir: "/exports/fr" },
    },
    {
      id: "node-telegram",
      type: "telegram_send_attachment",
      name: "Kirim Laporan ke Telegram",
      config: { credential_id: "cred-tg-001", file: "{{prev.body.file_url}}" },
    },
  ],
};

async function main(): Promise<void> {
  const created = await createWorkflow(body);
  check(created.status === 201 || created.status === 200, `create answered ${created.status}`);
  const workflow: Workflow = created.data.data;
  check(workflow.updated_at === null, "updated_at is null right after create");
  const id: string = workflow.id;

  const read = await getWorkflow(id);
  check(read.status === 200 && read.data.data.name === unique, "the workflow reads back");

  const found = await listWorkflows({ search: unique.slice(8, 20).toLowerCase(), page: 1, limit: 5 });
  check(found.status === 200, `list answered ${found.status}`);
  const page = found.data;
  check(page.data.some((w: Workflow) => w.id === id), "search finds the new workflow");
  check(page.current_page === 1 && page.limit === 5, "paging echoes page and limit");

  const updated = await updateWorkflow(id, { ...body, description: "Nonaktifkan sementara untuk maintenance" });
  check(updated.status === 200 && updated.data.data.updated_at, "update sets updated_at");

  const run = await executeWorkflow(id);
  check(run.status === 200, `execute answered ${run.status}`);
  const execution: Execution = run.data.data;
  check(execution.node_results.map((n) => n.node_id).join() === "node-export,node-telegram", "nodes run in order");
  const exportOutput = execution.node_results[0]?.output;
  check(typeof exportOutput?.file_url === "string", "the export node produced a file_url");

  const logs = await listWorkflowLogs(id, { page: 1 });
  check(logs.status === 200 && logs.data.data.some((e: Execution) => e.id === execution.id), "the run is in the logs");

  const deleted = await deleteWorkflow(id);
  check(deleted.status === 200 && deleted.data.message === "workflow deleted successfully", "delete answers the documented message");

  const gone = await getWorkflow(id);
  check(gone.status === 404 && gone.data.ok === false, "a deleted workflow answers 404 with the error envelope");

  console.log(`journey ok: ${id} created, read, found, updated, executed (${execution.status}), logged, deleted`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
