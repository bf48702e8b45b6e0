import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { SimulatedVmOptions } from "../../src/simulator/simulated-vm.ts";
import type { Db } from "../../src/store/database.ts";
import { NoticesRepo } from "../../src/store/notices-repo.ts";
import type { TrainopsProcess } from "./cli.ts";
import { type SimulatedRun, startSimulatedRun } from "./simulated-run.ts";
import type { SshdHarness } from "./sshd.ts";
import { WebhookServer } from "./webhook-server.ts";

/**
 * The `restart:` settings of the daemon tests' runs: the simulated trainer stops within a
 * second of a signal, so a stop that has not worked after these is a failure, not a slow VM.
 */
export const TEST_RESTART = {
  interruptTimeout: "8s",
  terminateTimeout: "4s",
  confirmTimeout: "40s",
} as const;

/** What a daemon test runs against: a simulated run, its config file and an alert webhook. */
export interface DaemonFixture<S extends SshdHarness | null> {
  sim: SimulatedRun<S>;
  /** Receives the daemon's alerts (`alerts.webhooks`, path `/hook`). */
  webhook: WebhookServer;
  configPath: string;
  storePath: string;
}

/** Options of {@link startDaemonFixture}. */
export interface DaemonFixtureOptions {
  /** Prefix of the temp directory. */
  prefix: string;
  vm: Omit<SimulatedVmOptions, "root">;
  /** The run entry of the config (from `sim.runEntry()` or `sim.restartableRunEntry()`). */
  run(sim: SimulatedRun<SshdHarness | null>): Record<string, unknown>;
  /** How the webhook is spoken to (default `slack`). */
  webhookKind?: "slack" | "json";
  /** `alerts.groupWindow`; the default config's when left out. */
  groupWindow?: string;
  /** Wait until the run has logged steps before returning. */
  waitForSteps?: boolean;
}

/**
 * Starts the simulated run (over sshd, or a local shell with `ssh: "local"`) and a webhook, and
 * writes the config a daemon test starts `trainops start` with: a store in the run's folder, a
 * poll every second, the run, alerts to the webhook only, `/metrics` on a free port. The VM is
 * started; the daemon is the test's to spawn and stop. `sim.stop()` and `webhook.close()` end it.
 */
export async function startDaemonFixture(
  options: DaemonFixtureOptions & { ssh: "local" },
): Promise<DaemonFixture<null>>;
export async function startDaemonFixture(
  options: DaemonFixtureOptions,
): Promise<DaemonFixture<SshdHarness>>;
export async function startDaemonFixture(
  options: DaemonFixtureOptions & { ssh?: "local" },
): Promise<DaemonFixture<SshdHarness | null>> {
  const webhook = await WebhookServer.start();
  const sim: SimulatedRun<SshdHarness | null> =
    options.ssh === "local"
      ? await startSimulatedRun({ prefix: options.prefix, ssh: "local", vm: options.vm })
      : await startSimulatedRun({ prefix: options.prefix, vm: options.vm });
  const storePath = join(sim.root, "trainops.db");
  const configPath = sim.writeConfig({
    store: storePath,
    poll: "*/1 * * * * *",
    runs: [options.run(sim)],
    alerts: {
      console: false,
      ...(options.groupWindow ? { groupWindow: options.groupWindow } : {}),
      webhooks: [{ kind: options.webhookKind ?? "slack", url: `${webhook.url}/hook` }],
    },
    http: { port: 0 },
  });
  await sim.vm.start();
  if (options.waitForSteps) await sim.waitForSteps();
  return { sim, webhook, configPath, storePath };
}

/** The `workers` the simulated run's training config names now: what a change wrote or restored. */
export function configuredWorkers(sim: SimulatedRun<SshdHarness | null>): number {
  const match = /^\s*workers:\s*(\d+)/m.exec(readFileSync(sim.vm.trainConfigPath, "utf8"));
  return Number(match?.[1]);
}

/**
 * The text of each notice the daemon recorded on finishing an interrupted change of `run` at
 * its next start (kept or rolled back), oldest first.
 */
export function recoveryNotices(db: Db, run: string): string[] {
  return new NoticesRepo(db)
    .list(run)
    .filter((n) => n.key.startsWith(`recovered:${run}:`))
    .map((n) => (n.message.lines ?? []).join("\n"));
}

/** What {@link endDaemonTest} ends; a part a failed set-up never made is left out. */
export interface DaemonTestParts {
  daemon?: TrainopsProcess | null;
  db?: Db;
  sim?: Pick<SimulatedRun<SshdHarness | null>, "stop">;
  webhook?: WebhookServer;
}

/**
 * Ends what a daemon test started, the daemon first (killed, and waited for, so nothing writes
 * the store or polls the VM any more), then the test's store handle, the simulated run and
 * the webhook.
 */
export async function endDaemonTest(parts: DaemonTestParts): Promise<void> {
  parts.daemon?.child.kill("SIGKILL");
  await parts.daemon?.exited;
  parts.db?.close();
  await parts.sim?.stop();
  await parts.webhook?.close();
}
