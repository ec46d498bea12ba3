// Must NOT compile: a telegram_send_attachment node's config needs `credential_id`.
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
        id: "node-telegram",
        type: "telegram_send_attachment",
        name: "Kirim ke Telegram",
        config: { file: "{{prev.body.file_url}}" },
      },
    ],
  },
});
