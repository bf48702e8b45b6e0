import { loadConfig } from "../../config/load-config.ts";
import { type AuditEntry, AuditRepo } from "../../store/audit-repo.ts";
import { openDatabase } from "../../store/database.ts";
import { CONFIG_OPTION_HELP, defaultConfigPath } from "../config-path.ts";
import type { RegisterCommand } from "./command.ts";

/** `trainops audit [--run R] [--json] [--limit N]`: who tried to change what, and how it ended. */
export const registerAudit: RegisterCommand = (program) => {
  program
    .command("audit")
    .description("List mutating /train attempts and refusals: who, where, what, outcome")
    .option("-r, --run <name>", "only this run")
    .option("-c, --config <file>", CONFIG_OPTION_HELP, defaultConfigPath())
    .option("-n, --limit <count>", "newest entries to show", "100")
    .option("--json", "print JSON")
    .action(async (options: { run?: string; config: string; limit: string; json?: boolean }) => {
      const limit = Number(options.limit);
      if (!Number.isInteger(limit) || limit < 1) {
        throw new Error(`--limit must be a positive integer; got '${options.limit}'`);
      }
      const config = loadConfig(options.config);
      const db = openDatabase(config.store);
      try {
        const entries = new AuditRepo(db).list({
          ...(options.run ? { run: options.run } : {}),
          limit,
        });
        process.stdout.write(
          options.json ? `${JSON.stringify({ entries }, null, 2)}\n` : formatEntries(entries),
        );
      } finally {
        db.close();
      }
    });
};

function formatEntries(entries: AuditEntry[]): string {
  if (!entries.length)
    return "No audit entries yet: mutating /train commands and refusals appear here.\n";
  const rows = entries.map((e) => [
    new Date(e.at).toISOString().slice(0, 19).replace("T", " "),
    `${e.platform}:${e.userName} (${e.userId})`,
    e.channelId,
    e.run ?? "-",
    e.command,
    Object.entries(e.args)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}=${v}`)
      .join(" ") || "-",
    e.outcome,
    e.detail ?? "",
  ]);
  const head = ["When (UTC)", "Who", "Channel", "Run", "Command", "Arguments", "Outcome", "Detail"];
  const widths = head.map((h, i) =>
    Math.max(h.length, ...rows.map((r) => (r[i] as string).length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] as number)))
      .join("  ")
      .trimEnd();
  return `${[line(head), ...rows.map(line)].join("\n")}\n`;
}
