import type { Alerting } from "../../alerts/create-alerting.ts";
import type { AlertingPort, FiringAlertView, SilenceView } from "./ports.ts";

/** The parts of the alerting engine the chat layer uses. */
export type AlertingForChat = Pick<
  Alerting,
  "listFiring" | "listSilences" | "silence" | "unsilence"
>;

/** Adapts the alerting engine (`createAlerting`) to what `/train status`, mute and unmute need. */
export function alertingPort(alerting: AlertingForChat): AlertingPort {
  const active = (run: string) =>
    alerting
      .listSilences(run)
      .filter((s) => s.endedAt === null && (s.run === run || s.run === null));
  const view = (s: ReturnType<Alerting["listSilences"]>[number]): SilenceView => ({
    id: String(s.id),
    run: s.run,
    rule: s.rule,
    until: s.endsAt,
    reason: s.reason,
    createdBy: s.createdBy ?? "someone",
  });
  return {
    listFiring(run): FiringAlertView[] {
      return alerting
        .listFiring(run)
        .filter((a) => !a.silenced)
        .map((a) => ({
          rule: a.rule,
          severity: a.severity === "success" ? "info" : a.severity,
          summary: a.headline,
          since: a.since,
        }));
    },
    isFiring: (run, rule) => alerting.listFiring(run).some((a) => a.rule === rule),
    listSilences: (run) => active(run).map(view),
    silence(input) {
      return view(
        alerting.silence({
          run: input.run,
          rule: input.rule ?? null,
          durationMs: input.durationMs,
          reason: input.reason,
          by: input.createdBy,
        }),
      );
    },
    unsilence(input) {
      let ended = 0;
      for (const s of active(input.run)) {
        // Only silences of this run; a global silence is lifted from where it was set.
        if (s.run !== input.run) continue;
        if (input.rule !== undefined && s.rule !== input.rule) continue;
        if (alerting.unsilence(s.id)) ended++;
      }
      return ended;
    },
  };
}
