import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import type { Config, RunConfig } from "../../src/config/schema.ts";
import { systemClock } from "../../src/core/clock.ts";
import { RunMonitor, type RunMonitorOptions } from "../../src/monitors/run-monitor.ts";
import {
  createSimulatedVm,
  type SimulatedVm,
  type SimulatedVmOptions,
} from "../../src/simulator/simulated-vm.ts";
import { type Db, openDatabase } from "../../src/store/database.ts";
import { createMonitorStore } from "../../src/store/monitor-store.ts";
import { createTransport } from "../../src/transport/create-transport.ts";
import type { Transport } from "../../src/transport/transport.ts";
import { type SshdHarness, startSshd } from "./sshd.ts";
import { waitUntil } from "./wait.ts";

/** Options of {@link startSimulatedRun}. */
export interface SimulatedRunOptions {
  /** Prefix of the temp directory that holds the VM, stores and config files. */
  prefix: string;
  /** Simulator settings; the VM lives in `<root>/vm`. */
  vm?: Omit<SimulatedVmOptions, "root">;
}

/**
 * A monitor wired to the run's first config entry; {@link SimulatedRun.stop} closes those it
 * attached, {@link detachMonitor} any other.
 */
export interface AttachedMonitor {
  run: RunConfig;
  db: Db;
  transport: Transport;
  monitor: RunMonitor;
}

/** A simulated training VM (not yet started) with its temp dir and, over SSH, its sshd. */
export interface SimulatedRun<S extends SshdHarness | null = SshdHarness> {
  root: string;
  vm: SimulatedVm;
  /** The real sshd in front of the VM; null for a run reached with `ssh: local`. */
  sshd: S;
  /**
   * A `runs:` entry named exp001 pointing at the VM (log, training config, nvidia-smi, 4000
   * steps × 32 epochs, 80 GiB GPU / 100 GiB host limits); `extra` keys are added or replace.
   */
  runEntry(extra?: Record<string, unknown>): Record<string, unknown>;
  /** {@link runEntry} plus what restarts need: process, start command, short timeouts. */
  restartableRunEntry(extra?: Record<string, unknown>): Record<string, unknown>;
  /** Writes `doc` as YAML to `<root>/<name>` and returns its path. */
  writeConfig(doc: Record<string, unknown>, name?: string): string;
  /** Opens `config.store`, a transport and a RunMonitor for `config.runs[0]`. */
  attach(config: Config, options?: Pick<RunMonitorOptions, "onFollowEvents">): AttachedMonitor;
  /** Resolves once the VM's log holds a training step line. */
  waitForSteps(timeoutMs?: number): Promise<void>;
  /** Stops the VM, closes attached monitors, stops sshd and removes the temp dir. */
  stop(): Promise<void>;
}

/** Starts a real sshd and creates a simulated VM behind it. */
export function startSimulatedRun(options: SimulatedRunOptions): Promise<SimulatedRun>;
/** Creates a simulated VM reached with `ssh: local` (no sshd). */
export function startSimulatedRun(
  options: SimulatedRunOptions & { ssh: "local" },
): Promise<SimulatedRun<null>>;
export async function startSimulatedRun(
  options: SimulatedRunOptions & { ssh?: "local" },
): Promise<SimulatedRun<SshdHarness | null>> {
  const sshd = options.ssh === "local" ? null : await startSshd();
  const root = mkdtempSync(join(tmpdir(), options.prefix));
  let vm: SimulatedVm;
  try {
    vm = await createSimulatedVm({ ...options.vm, root: join(root, "vm") });
  } catch (error) {
    await sshd?.stop();
    rmSync(root, { recursive: true, force: true });
    throw error;
  }
  const attached: AttachedMonitor[] = [];

  const runEntry = (extra: Record<string, unknown> = {}) => ({
    name: "exp001",
    ssh: sshd ? sshd.runConfigSsh() : "local",
    workdir: vm.workdir,
    log: vm.log,
    trainConfig: vm.trainConfig,
    nvidiaSmi: vm.nvidiaSmiPath,
    // This VM's own trainer: other test files run simulated jobs on the same machine.
    process: join(vm.workdir, "train.py"),
    steps: { perEpoch: 4000, epochs: 32 },
    limits: { gpuMemoryGiB: 80, hostMemoryGiB: 100 },
    ...extra,
  });

  return {
    root,
    vm,
    sshd,
    runEntry,
    restartableRunEntry: (extra = {}) =>
      runEntry({
        process: join(vm.workdir, "train.py"),
        start: vm.startCommand,
        backfillBytes: 4096,
        follow: false,
        restart: { interruptTimeout: "8s", terminateTimeout: "4s", confirmTimeout: "30s" },
        ...extra,
      }),
    writeConfig: (doc, name = "trainops.yaml") => {
      const path = join(root, name);
      writeFileSync(path, stringify(doc));
      return path;
    },
    attach: (config, attachOptions = {}) => {
      const wired = attachMonitor(config, attachOptions);
      attached.push(wired);
      return wired;
    },
    waitForSteps: async (timeoutMs = 20_000) => {
      await waitUntil(() => /Train step \d+/.test(vm.readLog()), {
        timeoutMs,
        intervalMs: 200,
        what: "the simulated run's first step line",
      });
    },
    stop: async () => {
      await vm.stop(1000).catch(() => {});
      for (const wired of attached.splice(0)) await detachMonitor(wired);
      await sshd?.stop();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/**
 * The monitor of `config`'s first run as the daemon wires it, on the system clock, over the
 * store at `config.store` (or `storePath`: a store of its own). {@link detachMonitor} ends it.
 */
export function attachMonitor(
  config: Config,
  options: Pick<RunMonitorOptions, "onFollowEvents"> & { storePath?: string } = {},
): AttachedMonitor {
  const run = config.runs[0] as RunConfig;
  const db = openDatabase(options.storePath ?? config.store);
  const transport = createTransport(run);
  const monitor = new RunMonitor({
    run,
    transport,
    store: createMonitorStore(db),
    clock: systemClock,
    onFollowEvents: options.onFollowEvents,
  });
  return { run, db, transport, monitor };
}

/** Stops the monitor's follow, closes its transport, then its store. */
export async function detachMonitor({ monitor, transport, db }: AttachedMonitor): Promise<void> {
  await monitor.stopFollow();
  await transport.close();
  db.close();
}
