// Must NOT compile: a telegram_send_attachment node's config needs `credential_id`.
import { createWorkflow } from "../generated/sdk.gen.js";

await createWorkflow({
  body: {
    name: "Laporan Harian",
    description: "",
    is_active: false,
    trigger_node: { type: "schedule", config: { cron: "0 0 7 * * *" } },
    nodes: [
      {
        id: "node-telegram",
        type: "telegram_send_attachment",
        name: "Kirim ke Telegram",
        config: { file: "{{prev.body.file_url}}" },
      },
    ],
  },
});
