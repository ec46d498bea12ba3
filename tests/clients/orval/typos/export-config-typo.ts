// Must NOT compile: `analytic_typo` is not a key of an event_history_export node's config.
import { createWorkflow } from "../generated/lenz";

void createWorkflow({
  name: "Laporan Harian",
  description: "",
  is_active: false,
  trigger_node: { type: "schedule", config: { cron: "0 0 7 * * *" } },
  nodes: [
    {
      id: "node-export",
      type: "event_history_export",
      name: "Ekspor Riwayat FR",
      config: { analytic_typo: "FR", date_range: "yesterday" },
    },
  ],
});
