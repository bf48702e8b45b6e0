import { describe, expect, it } from "vitest";
import { groupMessage } from "../../src/alerts/alert-message.ts";
import {
  alertButtons,
  parseActionButton,
  verdictButtons,
} from "../../src/message/action-buttons.ts";
import type { Message } from "../../src/message/message.ts";

const baselinePassed: Message = {
  title: "exp: baseline measured",
  severity: "info",
  footer: "run exp · attempt 1",
  buttons: verdictButtons("exp", 0, "passed", { hasNext: true, rolledBack: false }),
};
const phaseFailed: Message = {
  title: "exp: Phase 1 failed (Test 2 workers)",
  severity: "critical",
  buttons: verdictButtons("exp", 1, "failed", { hasNext: true, rolledBack: false }),
};
const oom: Message = {
  title: "exp: CUDA out of memory",
  severity: "critical",
  buttons: alertButtons("exp", "cuda_oom"),
  footer: "exp · CUDA OOM alert · since 12:00 UTC",
};

describe("buttons of notifications sent as one message", () => {
  it("keep the newest verdict's actions and every alert's Mute; Logs and Status once, last", () => {
    const group = groupMessage([baselinePassed, phaseFailed, oom], "exp");
    expect(group.buttons?.map((b) => b.label)).toEqual([
      "Roll back",
      "Retry",
      "Mute 1 h",
      "Mute 8 h",
      "Logs",
      "Status",
    ]);
    // The baseline's Next phase is gone: the plan has moved past it.
    expect(group.buttons?.map((b) => parseActionButton(b.id))).toContainEqual({
      action: "rollback",
      run: "exp",
      phase: 1,
      verdict: "failed",
    });
    expect(new Set(group.buttons?.map((b) => b.id)).size).toBe(group.buttons?.length);
    expect(group.footer).toBe("exp");
  });

  it("stay within 25 buttons however many alerts share the message, Logs and Status kept", () => {
    const many: Message[] = Array.from({ length: 15 }, (_, i) => ({
      title: `exp: alert ${i}`,
      severity: "warning",
      buttons: alertButtons("exp", `rule_${i}`),
    }));
    const buttons = groupMessage(many, "exp").buttons ?? [];
    expect(buttons).toHaveLength(25);
    expect(buttons.slice(-2).map((b) => b.label)).toEqual(["Logs", "Status"]);
    expect(buttons[0]?.label).toBe("Mute rule 0 1 h");
  });

  it("offer Stop training once, however many of its alerts ask for it", () => {
    const nan: Message = {
      title: "exp: loss is NaN",
      severity: "critical",
      buttons: alertButtons("exp", "nan_loss", { stop: true }),
    };
    const diverging: Message = {
      title: "exp: loss diverging",
      severity: "warning",
      buttons: alertButtons("exp", "loss_diverging", { stop: true }),
    };
    const labels = groupMessage([diverging, nan], "exp").buttons?.map((b) => b.label);
    expect(labels?.filter((l) => l === "Stop training")).toHaveLength(1);
    expect(labels?.[0]).toBe("Stop training");
    expect(parseActionButton(groupMessage([diverging, nan], "exp").buttons?.[0]?.id ?? "")).toEqual(
      { action: "stop", run: "exp", rule: "nan_loss" },
    );
  });

  it("a message on its own keeps its buttons as they are", () => {
    expect(groupMessage([oom], "exp").buttons).toEqual(oom.buttons);
  });
});
