import type { ChartPort } from "../../charts/chart-port.ts";
import type { Config } from "../../config/schema.ts";
import type { Clock } from "../../core/clock.ts";
import type { RunOperations } from "../../ops/run-operations.ts";
import type { AuditRepo } from "../../store/audit-repo.ts";
import type { ConfirmationsRepo } from "../../store/confirmations-repo.ts";
import type { EventsRepo } from "../../store/events-repo.ts";
import type { PhasesRepo } from "../../store/phases-repo.ts";
import type { SamplesRepo } from "../../store/samples-repo.ts";
import type { SlurmJobsRepo } from "../../store/slurm-jobs-repo.ts";
import type { AlertingPort, DigestPort, LogTailPort } from "./ports.ts";

/** The repositories the command layer reads and writes. */
export interface BotStore {
  samples: SamplesRepo;
  events: EventsRepo;
  confirmations: ConfirmationsRepo;
  audit: AuditRepo;
  /** Phase attempts, drawn as phase boundaries on charts; the audit trail is used without it. */
  phases?: Pick<PhasesRepo, "list">;
  /** Slurm jobs of runs that name one, for `/train status`. */
  slurmJobs?: SlurmJobsRepo;
}

/** Everything `createBotCore` needs; every I/O seam is injected. */
export interface BotCoreOptions {
  config: Pick<Config, "runs" | "discord" | "slack" | "confirmTimeout"> &
    Partial<Pick<Config, "timezone">>;
  db: BotStore;
  operations: RunOperations;
  alerts?: AlertingPort;
  logs?: LogTailPort;
  /** `/train digest`; without it the command says the digest is unavailable. */
  digest?: DigestPort;
  clock?: Clock;
  /** Charts on `/train status` and `/train chart`; omit to send text only. */
  charts?: ChartPort;
  /** Window of the chart on `/train status` (default 24 h). */
  statusChartWindowMs?: number;
  /** How long `/train status` waits for the plan view before showing the rest (default 1.5 s). */
  planTimeoutMs?: number;
  /** Confirmation ids; random by default. */
  newId?: () => string;
}
