import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type OpsProcess, startOpsProcess } from "./ops-process.ts";

/** The Debian package's binary. */
export const ALERTMANAGER_BINARY = "/usr/bin/prometheus-alertmanager";

/**
 * Starts a real Alertmanager (no clustering) with its own config and storage in a temp dir.
 * Every alert is routed to `webhookUrl` at once (group_wait 0s) with resolutions sent too, so
 * a test sees what Alertmanager would page with.
 */
export function startAlertmanager(webhookUrl: string, port?: number): Promise<OpsProcess> {
  return startOpsProcess({
    ...(port !== undefined ? { port } : {}),
    binary: ALERTMANAGER_BINARY,
    name: "alertmanager",
    prepare(dir, port) {
      const config = join(dir, "alertmanager.yml");
      writeFileSync(
        config,
        [
          "route:",
          "  receiver: test",
          "  group_by: [alertname, run]",
          "  group_wait: 0s",
          "  group_interval: 1s",
          "  repeat_interval: 1h",
          "receivers:",
          "  - name: test",
          "    webhook_configs:",
          `      - url: ${JSON.stringify(webhookUrl)}`,
          "        send_resolved: true",
          "",
        ].join("\n"),
      );
      mkdirSync(join(dir, "data"), { recursive: true });
      return [
        `--config.file=${config}`,
        `--storage.path=${join(dir, "data")}`,
        `--web.listen-address=127.0.0.1:${port}`,
        "--cluster.listen-address=",
        "--log.level=warn",
      ];
    },
  });
}
