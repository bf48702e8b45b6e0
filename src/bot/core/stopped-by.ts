import type { AuditRepo } from "../../store/audit-repo.ts";

/** Who stopped a run's training on purpose, and when. */
export interface StoppedBy {
  by: string;
  at: number;
}

/** Operations after which training runs again. */
const STARTS_TRAINING = new Set(["restart", "next-phase", "set", "rollback"]);

/**
 * The stop that left the run's training stopped, from the audit trail: the newest applied (or
 * recovered) change is a stop. Null when none was asked, or training was started since.
 */
export function stoppedBy(audit: AuditRepo, run: string): StoppedBy | null {
  const changes = audit
    .list({ run, outcomes: ["applied", "recovered"], limit: 50 })
    .filter((e) => e.command === "stop" || STARTS_TRAINING.has(e.command));
  const newest = changes[0];
  return newest?.command === "stop" ? { by: newest.userName, at: newest.at } : null;
}
