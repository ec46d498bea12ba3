// Must compile: the typo programs next to it, without their typo.
import { createWorkflow } from "../generated/sdk.gen.js";

await createWorkflow({
  body: {
    name: "Laporan Harian",
    description: "",
    is_active: false,
    trigger_node: { type: "schedule", config: { cron: "0 0 7 * * *" } },
    nodes: [
      {
        id: "node-export",
        type: "event_history_export",
        name: "Ekspor Riwayat FR",
        config: { analytic_type: "FR", date_range: "yesterday" },
      },
      {
        id: "node-telegram",
        type: "telegram_send_attachment",
        name: "Kirim ke Telegram",
        config: { credential_id: "cred-tg-001", file: "{{prev.body.file_url}}" },
      },
    ],
  },
});
