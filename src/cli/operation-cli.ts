import { userInfo } from "node:os";
import { createInterface } from "node:readline/promises";
import type { Command } from "commander";
import type { Config } from "../config/schema.ts";
import { formatDuration } from "../core/duration.ts";
import type { Operations } from "../ops/create-operations.ts";
import { OperationRefusedError } from "../ops/operation-refused-error.ts";
import type { Actor, ChangePreview, OperationResult, PlanView } from "../ops/run-operations.ts";
import type { CliRuntime } from "./cli-runtime.ts";
import { CONFIG_OPTION_HELP, defaultConfigPath } from "./config-path.ts";

/** Run operations for one CLI invocation: the product over the configured store. */
export interface OperationCli {
  config: Config;
  ops: Operations;
  close(): Promise<void>;
}

/**
 * Loads the config and opens the product as the daemon does: an operation from here records its
 * expected stop, audit row (platform `cli`), journal and notices in the store, where a running
 * daemon's alert rules and outbox see them. The modules behind it load here, not at start-up, so
 * `trainops --help` stays fast.
 */
export async function openOperationCli(configPath: string): Promise<OperationCli> {
  const { openCliRuntime } = await import("./cli-runtime.ts");
  const runtime: CliRuntime = openCliRuntime(configPath);
  return { config: runtime.config, ops: runtime.operations, close: () => runtime.close() };
}

/** The person at this terminal, for the change lock and the audit trail. */
export function cliActor(): Actor {
  const name = safeUserName();
  return { platform: "cli", userId: name, name: `${name} (cli)`, channelId: "", announce: true };
}

/** The one run when only one is configured; otherwise --run is needed. */
export function pickRun(config: Config, run: string | undefined): string {
  if (run !== undefined) return run;
  if (config.runs.length === 1) return (config.runs[0] as Config["runs"][number]).name;
  throw new OperationRefusedError(
    `several runs are configured (${config.runs.map((r) => r.name).join(", ")}); pass --run NAME`,
  );
}

/** A preview for the terminal. */
export function formatPreview(preview: ChangePreview): string {
  const lines = [`${preview.run}: ${preview.title}`];
  if (preview.risk) lines.push(`  risk: ${preview.risk}`);
  for (const change of preview.changes) {
    lines.push(
      `  ${change.key}: ${JSON.stringify(change.before)} → ${JSON.stringify(change.after)}`,
    );
  }
  if (preview.diff.length > 0) lines.push("  diff:", ...preview.diff.map((l) => `    ${l}`));
  for (const e of preview.expected ?? []) lines.push(`  expected: ${e}`);
  if (preview.restarts) lines.push("  training restarts (SIGINT, then start: again)");
  return `${lines.join("\n")}\n`;
}

/**
 * Shows the preview, asks y/N on a terminal unless --yes, applies it and prints progress.
 * Resolves to the exit code: 0 applied, 1 failed or declined, 2 not a terminal without --yes.
 */
export async function confirmAndApply(
  cli: OperationCli,
  preview: ChangePreview,
  options: { yes?: boolean; dryRun?: boolean },
): Promise<number> {
  process.stdout.write(formatPreview(preview));
  if (options.dryRun) return 0;
  if (!options.yes) {
    if (!process.stdin.isTTY) {
      process.stderr.write(
        "trainops: not a terminal, so nothing was applied; add --yes to apply without a prompt\n",
      );
      return 2;
    }
    const rl = createInterface({ input: process.stdin, output: process.stdout });
    const answer = await rl.question("Apply? [y/N] ");
    rl.close();
    if (!/^y(es)?$/i.test(answer.trim())) {
      process.stdout.write("Cancelled; nothing changed.\n");
      return 1;
    }
  }
  const result = await cli.ops.apply(preview, cliActor(), (line) =>
    process.stdout.write(`  … ${line}\n`),
  );
  process.stdout.write(formatResult(result));
  return result.ok ? 0 : 1;
}

function formatResult(result: OperationResult): string {
  const mark = !result.ok ? "✗" : result.warning ? "⚠" : "✓";
  const warning = result.ok && result.warning ? [result.warning] : [];
  return `${mark} ${result.summary}\n${[...warning, ...result.details].map((d) => `  ${d}\n`).join("")}`;
}

/** Runs a command body, printing refusals as one line with exit code 1. */
export async function runOperationCommand(
  configPath: string,
  setExitCode: (code: number) => void,
  body: (cli: OperationCli) => Promise<number>,
): Promise<void> {
  const cli = await openOperationCli(configPath);
  try {
    setExitCode(await body(cli));
  } catch (error) {
    if (!(error instanceof OperationRefusedError)) throw error;
    process.stderr.write(`trainops: refused: ${error.message}\n`);
    setExitCode(1);
  } finally {
    await cli.close();
  }
}

/** The options of a command that previews a change, asks, and applies it. */
export interface ChangeOptions {
  run?: string;
  config: string;
  dryRun?: boolean;
  yes?: boolean;
}

/**
 * Adds the options every change command takes: --run, --config, --dry-run (unless the change
 * has nothing to preview, as for restart) and --yes.
 */
export function addChangeOptions(command: Command, { dryRun = true } = {}): Command {
  command
    .option("-r, --run <name>", "the run (needed when several are configured)")
    .option("-c, --config <file>", CONFIG_OPTION_HELP, defaultConfigPath());
  if (dryRun) command.option("--dry-run", "show what would change, change nothing");
  return command.option("-y, --yes", "apply without asking");
}

/**
 * The body of a change command: previews the change for the chosen run, then confirms and
 * applies it (see confirmAndApply); refusals print as one line with exit code 1.
 */
export function previewAndApply(
  options: ChangeOptions,
  setExitCode: (code: number) => void,
  preview: (ops: Operations, run: string) => Promise<ChangePreview>,
): Promise<void> {
  return runOperationCommand(options.config, setExitCode, async (cli) =>
    confirmAndApply(cli, await preview(cli.ops, pickRun(cli.config, options.run)), options),
  );
}

/** The plan view as text: where the run stands, the criteria, and the results table. */
export function formatPlanView(view: PlanView): string {
  const lines = [`${view.run}: plan ${view.planName}`];
  lines.push(
    view.current
      ? `  now: ${view.current.name} (${view.current.state})`
      : "  now: baseline not measured yet",
  );
  for (const c of view.criteria) lines.push(`    ${c}`);
  const header = [
    "phase",
    "name",
    "risk",
    "state",
    "workers",
    "batch",
    "step time",
    "epoch time",
    "total time",
    "speedup",
  ];
  const rows = view.phases.map((p) => [
    String(p.index),
    p.name,
    p.risk,
    p.state,
    p.workers === null ? "–" : String(p.workers),
    p.batch === null ? "–" : String(p.batch),
    p.stepTimeSeconds === null ? "–" : `${p.stepTimeSeconds.toFixed(1)} s`,
    p.epochTimeSeconds === null ? "–" : formatDuration(p.epochTimeSeconds * 1000),
    p.totalTimeSeconds === null ? "–" : formatDuration(p.totalTimeSeconds * 1000),
    p.speedup === null ? "–" : `${p.speedup.toFixed(1)}x`,
  ]);
  const widths = header.map((h, i) =>
    Math.max(h.length, ...rows.map((r) => (r[i] as string).length)),
  );
  const fmt = (cells: string[]) =>
    `  ${cells
      .map((c, i) => c.padEnd(widths[i] as number))
      .join("  ")
      .trimEnd()}`;
  lines.push(fmt(header), ...rows.map(fmt));
  return `${lines.join("\n")}\n`;
}

function safeUserName(): string {
  try {
    return userInfo().username.replace(/[^\w.-]/g, "") || "unknown";
  } catch {
    return process.env.USER ?? "unknown";
  }
}
