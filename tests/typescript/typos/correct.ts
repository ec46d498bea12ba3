// Must compile: the typo programs next to it, without their typo.
import createClient from "openapi-fetch";
import type { paths } from "../generated/lenz.js";

const client = createClient<paths>({ baseUrl: "http://127.0.0.1:4010" });

await client.POST("/api/workflows", {
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
