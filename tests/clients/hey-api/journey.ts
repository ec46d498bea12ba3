// The frontend journey with the client @hey-api/openapi-ts generates from the shipped spec (its
// fetch client): the same steps as tests/typescript/journey.ts. `tsc --strict` proves the
// generated types fit the code; running it against a real mock proves the answers fit them.
import { client } from "./generated/client.gen.js";
import {
  createWorkflow,
  deleteWorkflow,
  executeWorkflow,
  getWorkflow,
  listWorkflowLogs,
  listWorkflows,
  updateWorkflow,
} from "./generated/sdk.gen.js";
import type { Execution, Workflow, WorkflowInput } from "./generated/types.gen.js";

const baseUrl = process.env.LENZ_BASE_URL ?? "http://127.0.0.1:4010";
const token = process.env.LENZ_TOKEN ?? "lenz-mock-token";
client.setConfig({ baseUrl, auth: () => token });

function check(condition: unknown, what: string): asserts condition {
  if (!condition) throw new Error(`journey failed: ${what}`);
}

const unique = `Laporan Harian HeyApi ${Date.now()}`;
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

const created = await createWorkflow({ body });
check(created.data?.ok === true, `create answered ${created.response.status}`);
const workflow: Workflow = created.data.data;
check(workflow.updated_at === null, "updated_at is null right after create");
const id: string = workflow.id;

const read = await getWorkflow({ path: { id } });
check(read.data?.data.name === unique, "the workflow reads back");

const found = await listWorkflows({ query: { search: unique.slice(8, 20).toLowerCase(), page: 1, limit: 5 } });
const page = found.data;
check(page, `list answered ${found.response.status}`);
check(page.data.some((w: Workflow) => w.id === id), "search finds the new workflow");
check(page.current_page === 1 && page.limit === 5, "paging echoes page and limit");

const updated = await updateWorkflow({
  path: { id },
  body: { ...body, description: "Nonaktifkan sementara untuk maintenance" },
});
check(updated.data?.data.updated_at, "update sets updated_at");

const run = await executeWorkflow({ path: { id } });
check(run.data?.ok === true, `execute answered ${run.response.status}`);
const execution: Execution = run.data.data;
check(execution.node_results.map((n) => n.node_id).join() === "node-export,node-telegram", "nodes run in order");
const exportOutput = execution.node_results[0]?.output;
check(typeof exportOutput?.file_url === "string", "the export node produced a file_url");

const logs = await listWorkflowLogs({ path: { id }, query: { page: 1 } });
check(logs.data?.data.some((e: Execution) => e.id === execution.id), "the run is in the logs");

const deleted = await deleteWorkflow({ path: { id } });
check(deleted.data?.message === "workflow deleted successfully", "delete answers the documented message");

const gone = await getWorkflow({ path: { id } });
check(gone.response.status === 404 && gone.error?.ok === false, "a deleted workflow answers 404 with the error envelope");

console.log(`journey ok: ${id} created, read, found, updated, executed (${execution.status}), logged, deleted`);
