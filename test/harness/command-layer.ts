import type { AlertingForChat } from "../../src/bot/core/alerting-adapter.ts";
import { alertingPort } from "../../src/bot/core/alerting-adapter.ts";
import { type BotCoreService, createBotCore } from "../../src/bot/core/bot-core.ts";
import { transportLogTail } from "../../src/bot/core/transport-log-tail.ts";
import { renderRunChart } from "../../src/charts/run-chart.ts";
import type { Config } from "../../src/config/schema.ts";
import { type Clock, systemClock } from "../../src/core/clock.ts";
import type { RunOperations } from "../../src/ops/run-operations.ts";
import { AuditRepo } from "../../src/store/audit-repo.ts";
import { ConfirmationsRepo } from "../../src/store/confirmations-repo.ts";
import type { Db } from "../../src/store/database.ts";
import { EventsRepo } from "../../src/store/events-repo.ts";
import { PhasesRepo } from "../../src/store/phases-repo.ts";
import { SamplesRepo } from "../../src/store/samples-repo.ts";
import { remotesOver } from "../../src/transport/run-remote.ts";
import type { Transport } from "../../src/transport/transport.ts";

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
