import { type Alerting, createAlerting } from "../../src/alerts/create-alerting.ts";
import type { AlertingForChat } from "../../src/bot/core/alerting-adapter.ts";
import { alertingPort } from "../../src/bot/core/alerting-adapter.ts";
import { type BotCoreService, createBotCore } from "../../src/bot/core/bot-core.ts";
import { transportLogTail } from "../../src/bot/core/transport-log-tail.ts";
import { renderRunChart } from "../../src/charts/run-chart.ts";
import type { Config } from "../../src/config/schema.ts";
import { type Clock, systemClock } from "../../src/core/clock.ts";
import { createRunOperations } from "../../src/ops/create-operations.ts";
import type { RunOperations } from "../../src/ops/run-operations.ts";
import { AuditRepo } from "../../src/store/audit-repo.ts";
import { ConfirmationsRepo } from "../../src/store/confirmations-repo.ts";
import type { Db } from "../../src/store/database.ts";
import { EventsRepo } from "../../src/store/events-repo.ts";
import { createOpsStore } from "../../src/store/ops-store.ts";
import { PhasesRepo } from "../../src/store/phases-repo.ts";
import { SamplesRepo } from "../../src/store/samples-repo.ts";
import { SlurmJobsRepo } from "../../src/store/slurm-jobs-repo.ts";
import { remotesOver } from "../../src/transport/run-remote.ts";
import type { Transport } from "../../src/transport/transport.ts";
import { MemorySink } from "../alerts/alert-fixture.ts";
import type { AttachedMonitor } from "./simulated-run.ts";

/** What {@link commandLayerOver} builds the command layer on. */
export interface CommandLayerParts {
  config: Config;
  /** The store the monitor, the operations and the alerting engine write. */
  db: Db;
  operations: RunOperations;
  alerting: AlertingForChat;
  /** The run's transport: `/train logs` reads the log through it. */
  transport: Transport;
  clock?: Clock;
}

/**
 * The command layer (`/train`, buttons) over real parts, wired as the daemon wires it: the
 * store's repositories, the run operations, the alerting engine for mute and status, log tails
 * through the run's transport, and the run chart.
 */
export function commandLayerOver(parts: CommandLayerParts): {
  core: BotCoreService;
  audit: AuditRepo;
} {
  const clock = parts.clock ?? systemClock;
  const audit = new AuditRepo(parts.db);
  const core = createBotCore({
    config: parts.config,
    db: {
      samples: new SamplesRepo(parts.db),
      events: new EventsRepo(parts.db),
      confirmations: new ConfirmationsRepo(parts.db),
      audit,
      phases: new PhasesRepo(parts.db),
      slurmJobs: new SlurmJobsRepo(parts.db),
    },
    operations: parts.operations,
    alerts: alertingPort(parts.alerting),
    logs: transportLogTail(
      parts.config.runs,
      remotesOver(() => parts.transport, clock),
    ),
    clock,
    charts: { render: renderRunChart },
  });
  return { core, audit };
}

/** Options of {@link daemonPiecesOver}. */
export interface DaemonPiecesOptions {
  /** How often an operation checks on training while it stops or restarts it (ms). */
  checkEveryMs: number;
  /** Where the run operations reach the VM, when not through the monitor's transport. */
  opsTransport?: Transport;
}

/** The daemon's pieces over one store, as {@link daemonPiecesOver} wires them. */
export interface DaemonPieces {
  alerting: Alerting;
  /** Every alert and notice the alerting engine delivered, in order. */
  sink: MemorySink;
  core: BotCoreService;
  audit: AuditRepo;
  /** One round of the daemon: poll every run, evaluate the rules, deliver what is due. */
  round(): Promise<void>;
}

/**
 * What the daemon runs beside an attached monitor (see SimulatedRun.attach), over its store and
 * on the system clock: the alerting engine delivering to a memory sink, the real run
 * operations (through the monitor's transport unless told otherwise) and the command layer
 * over both ({@link commandLayerOver}). Rounds are the test's to drive.
 */
export function daemonPiecesOver(
  config: Config,
  attached: Pick<AttachedMonitor, "db" | "monitor" | "transport">,
  options: DaemonPiecesOptions,
): DaemonPieces {
  const { db, monitor, transport } = attached;
  const sink = new MemorySink();
  const alerting = createAlerting({ db, config, clock: systemClock, sinks: [sink] });
  const operations = createRunOperations({
    store: createOpsStore(db),
    config,
    remoteFor: remotesOver(() => options.opsTransport ?? transport, systemClock),
    clock: systemClock,
    checkEveryMs: options.checkEveryMs,
  });
  const { core, audit } = commandLayerOver({ config, db, operations, alerting, transport });
  return {
    alerting,
    sink,
    core,
    audit,
    async round() {
      await monitor.pollOnce();
      for (const run of config.runs) alerting.evaluate(run.name);
      await alerting.deliverDue();
    },
  };
}
