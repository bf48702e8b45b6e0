import type { DigestReport } from "../../alerts/digest/digest-report.ts";

/**
 * What the command layer needs from other areas besides RunOperations. Small interfaces, so the
 * lead wires real implementations (the alerting engine, the run's transport) and tests pass
 * their own.
 */

/** A firing alert, as `/train status` shows it. */
export interface FiringAlertView {
  rule: string;
  severity: "info" | "warning" | "critical";
  /** One line for people: "GPU idle: 0% for 45 min". */
  summary: string;
  /** When it started firing (ms since the epoch). */
  since: number;
}

/** An active silence. */
export interface SilenceView {
  id: string;
  run: string | null;
  /** null: every rule of the run. */
  rule: string | null;
  until: number;
  reason: string;
  createdBy: string;
}

/** The alerting engine's face towards chat (implemented by `createAlerting` in src/alerts). */
export interface AlertingPort {
  /** The run's firing alerts that are not muted (what `/train status` lists as firing). */
  listFiring(run: string): FiringAlertView[] | Promise<FiringAlertView[]>;
  /** Whether the run's `rule` alert is firing now, muted or not. */
  isFiring(run: string, rule: string): boolean | Promise<boolean>;
  listSilences(run: string): SilenceView[] | Promise<SilenceView[]>;
  silence(input: {
    run: string;
    rule?: string;
    durationMs: number;
    reason: string;
    createdBy: string;
  }): SilenceView | Promise<SilenceView>;
  /** Ends the run's silences (of one rule when given); returns how many ended. */
  unsilence(input: { run: string; rule?: string; by: string }): number | Promise<number>;
}

/** Reads the end of a run's training log over its connection (wired to the transport). */
export interface LogTailPort {
  tail(run: string, lines: number): Promise<string>;
}

/** The digest as of now (implemented by `createAlerting`'s `digest`). */
export interface DigestPort {
  digest(options: { runs?: readonly string[]; to?: number }): DigestReport;
}
