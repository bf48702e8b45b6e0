import type { AlertLogger } from "../alerts/alert-engine.ts";
import { type Alerting, createAlerting } from "../alerts/create-alerting.ts";
import type { SenderOptions } from "../alerts/sender.ts";
import type { AlertSink } from "../alerts/sinks/alert-sink.ts";
import type { Config, RunConfig } from "../config/schema.ts";
import { type Clock, systemClock } from "../core/clock.ts";
import { createRunOperations, type Operations } from "../ops/create-operations.ts";
import { type Db, openDatabase } from "../store/database.ts";
import { createOpsStore } from "../store/ops-store.ts";
import { PhasesRepo } from "../store/phases-repo.ts";
import { HostTransportPool } from "../transport/host-transport-pool.ts";
import { type RunRemote, remotesOver } from "../transport/run-remote.ts";
import type { Transport } from "../transport/transport.ts";
import { createMonitoring, type Monitoring } from "./monitoring.ts";

/** What {@link openProduct} needs. */
export interface ProductOptions {
  config: Config;
  /** Folder of trainops.yaml: relative plan paths resolve against it. */
  configDir: string;
  clock?: Clock;
  /** Transport per run; default SSH or local shell as the run's `ssh:` says. */
  transportFor?: (run: RunConfig) => Transport;
  /**
   * Where alerts and notices go. The array is read at each delivery, so a daemon may add its
   * front ends' sinks after this returns.
   */
  sinks: AlertSink[];
  /** Finishes messages before delivery (draws verdict charts). */
  prepare?: SenderOptions["prepare"];
  log?: AlertLogger & { debug?(obj: object, msg: string): void };
  /** Told when a follow stream ends (it reopens by itself), e.g. to count reconnects. */
  onFollowError?: (run: string) => void;
}

/**
 * The product over one store: monitors, alerting and operations, each built once over the same
 * database and the same transport per run. The daemon, `poll --once`, the operation commands
 * and the demo all open it here, so an operation from the terminal records exactly what the same
 * operation from chat does (expected stop, audit row, notices, journal) and the daemon's alert
 * rules see it.
 */
export interface Product {
  config: Config;
  db: Db;
  clock: Clock;
  monitoring: Monitoring;
  alerting: Alerting;
  operations: Operations;
  /** The one transport of a run. */
  transportFor(run: RunConfig): Transport;
  /** The run's remote side (paths, log reads and tails, training config, processes). */
  remoteFor(run: RunConfig): RunRemote;
  /** Runs the alert rules for a run, logging (not throwing) a rule failure. */
  evaluate(run: string): void;
  /** Closes follow streams, transports and the store. */
  close(): Promise<void>;
}

/** Opens the store and builds the product's parts; connections open lazily, on first use. */
export function openProduct(options: ProductOptions): Product {
  const { config } = options;
  const clock = options.clock ?? systemClock;
  const db = openDatabase(config.store);
  const transports = new Map<string, Transport>();
  // Runs on the same host share one connection and remote shell.
  const hosts = new HostTransportPool();
  const transportFor = (run: RunConfig): Transport => {
    let transport = transports.get(run.name);
    if (!transport) {
      transport = options.transportFor?.(run) ?? hosts.get(run);
      transports.set(run.name, transport);
    }
    return transport;
  };
  const phases = new PhasesRepo(db);
  const alerting = createAlerting({
    db,
    config,
    clock,
    sinks: options.sinks,
    phaseOf: (run) => {
      const attempt = phases.current(run);
      return attempt ? `phase${attempt.phaseIndex}` : null;
    },
    ...(options.log ? { log: options.log } : {}),
    ...(options.prepare ? { prepare: options.prepare } : {}),
  });
  const evaluate = (run: string): void => {
    try {
      alerting.evaluate(run);
    } catch (error) {
      options.log?.error({ run, err: error }, "alert rules failed");
    }
  };
  const monitoring = createMonitoring({
    config,
    db,
    clock,
    transportFor,
    onFollowEvents: (run) => evaluate(run),
    onFollowError: (run, error) => {
      options.onFollowError?.(run);
      options.log?.debug?.({ run, err: error.message }, "follow stream ended");
    },
  });
  const remoteFor = remotesOver(transportFor, clock);
  const operations = createRunOperations({
    store: createOpsStore(db),
    config,
    baseDir: options.configDir,
    remoteFor,
    clock,
  });
  return {
    config,
    db,
    clock,
    monitoring,
    alerting,
    operations,
    transportFor,
    remoteFor,
    evaluate,
    close: async () => {
      await monitoring.close();
      db.close();
    },
  };
}
