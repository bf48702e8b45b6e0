import { describe, expect, it } from "vitest";
import type { Message } from "../../src/message/message.ts";
import type { PlanView } from "../../src/ops/run-operations.ts";
import { verdictMessage } from "../../src/ops/verdict-message.ts";
import { phaseAttempt, phaseMeasure } from "../harness/phase-factory.ts";
import {
  CONSOLE,
  consoleOver,
  DISCORD_OPERATOR,
  DISCORD_VIEWER,
  oomAlert as oomAlertOf,
  planSample,
  RecordingResponder,
  useBotFixture,
} from "./bot-fixture.ts";

const f = useBotFixture({}, ["exp001"]);
const responder = new RecordingResponder();

/** A CUDA OOM alert as the alerting engine words it. */
const oomAlert = () => oomAlertOf("exp001", f.clock.now());

function press(message: Message, label: string, invoker = DISCORD_OPERATOR) {
  const button = message.buttons?.find((b) => b.label === label);
  if (!button) throw new Error(`no button '${label}' on ${message.title}`);
  return f.core.press({ buttonId: button.id, invoker }, responder);
}

/** The fixture's plan, standing at `current`. */
function planAt(current: PlanView["current"]): void {
  const plan = f.ops.plan.bind(f.ops);
  f.ops.plan = async (run: string) => ({ ...(await plan(run)), current });
}

describe("buttons on an alert", () => {
  it("offer Mute 1 h / 8 h, Logs and Status, and never show an internal id in the footer", () => {
    const alert = oomAlert();
    expect(alert.buttons?.map((b) => b.label)).toEqual(["Mute 1 h", "Mute 8 h", "Logs", "Status"]);
    expect(alert.footer).toMatch(/^exp001 · CUDA OOM alert · since 12:00 UTC$/);
  });

  it("Mute 1 h mutes that alert for an operator, privately, audited like /train mute", async () => {
    f.alerts.firing = [
      { rule: "cuda_oom", severity: "critical", summary: "CUDA OOM", since: f.clock.now() },
    ];
    const m = await press(oomAlert(), "Mute 1 h");
    expect(m.ephemeral).toBe(true);
    expect(m.title).toBe("Muted CUDA OOM alerts of exp001 for 1 h");
    expect(f.alerts.silences.map((s) => [s.rule, s.until - f.clock.now()])).toEqual([
      ["cuda_oom", 3_600_000],
    ]);
    const audit = f.audit.list({ outcomes: ["done"] });
    expect(audit.map((e) => [e.command, e.userId, e.args.rule])).toEqual([
      ["mute", DISCORD_OPERATOR.userId, "cuda_oom"],
    ]);
  });

  it("a viewer's Mute is refused and audited; a resolved alert's Mute says so and mutes nothing", async () => {
    f.alerts.firing = [
      { rule: "cuda_oom", severity: "critical", summary: "CUDA OOM", since: f.clock.now() },
    ];
    const refused = await press(oomAlert(), "Mute 8 h", DISCORD_VIEWER);
    expect(refused.title).toBe("Not allowed");
    expect(f.audit.list({ outcomes: ["refused"] }).map((e) => e.command)).toEqual(["mute"]);
    f.alerts.firing = [];
    const stale = await press(oomAlert(), "Mute 1 h");
    expect(stale.ephemeral).toBe(true);
    expect(stale.title).toBe("Alert already resolved");
    expect(stale.lines?.[0]).toContain("The CUDA OOM alert of exp001 is no longer firing");
    expect(f.alerts.silences).toHaveLength(0);
  });

  it("Status and Logs answer anyone, privately", async () => {
    f.samples.insert(planSample("exp001", f.clock.now()));
    f.logText.value = "Train step 549/4000";
    const status = await press(oomAlert(), "Status", DISCORD_VIEWER);
    expect(status.ephemeral).toBe(true);
    expect(status.title).toBe("exp001: step 549/128,000, epoch 1/32");
    const logs = await press(oomAlert(), "Logs", DISCORD_VIEWER);
    expect(logs.ephemeral).toBe(true);
    expect(logs.code).toBe("Train step 549/4000");
  });
});

describe("buttons on a verdict", () => {
  const verdict = (v: "passed" | "failed" | "inconclusive", rolledBack = false) =>
    verdictMessage({
      run: "exp001",
      attempt: phaseAttempt({
        id: 4,
        phaseIndex: 1,
        name: "Test 2 workers",
        state: v,
        batch: 1,
      }),
      verdict: v,
      reason: "all criteria met",
      measure: phaseMeasure({ stepTimeSeconds: 9.4 }),
      criteria: null,
      reference: null,
      checks: [],
      next: "Phase 2 (workers 2, batch 2, low risk)",
      autoAdvance: false,
      ...(rolledBack
        ? { afterward: "Rolling back to the last passed config and restarting." }
        : {}),
    });

  it("a pass offers Next phase; a failure Roll back and Retry (Retry only once it rolls back)", () => {
    expect(verdict("passed").buttons?.map((b) => b.label)).toEqual([
      "Next phase",
      "Logs",
      "Status",
    ]);
    expect(verdict("failed").buttons?.map((b) => b.label)).toEqual([
      "Roll back",
      "Retry",
      "Logs",
      "Status",
    ]);
    expect(verdict("failed", true).buttons?.map((b) => b.label)).toEqual([
      "Retry",
      "Logs",
      "Status",
    ]);
    expect(verdict("inconclusive").buttons?.map((b) => b.label)).toEqual([
      "Roll back",
      "Retry",
      "Logs",
      "Status",
    ]);
  });

  it("Next phase on the current verdict opens the same confirmation as /train next-phase", async () => {
    planAt({ index: 1, name: "Phase 1: Test 2 workers", state: "passed, waiting for a person" });
    const m = await press(verdict("passed"), "Next phase");
    expect(m.title).toMatch(/^Confirm: /);
    expect(m.ephemeral).toBe(true);
    expect(m.buttons?.map((b) => b.id)).toEqual(["confirm:c1", "cancel:c1"]);
    expect(f.audit.list({ outcomes: ["requested"] }).map((e) => e.command)).toEqual(["next-phase"]);
    const viewer = await press(verdict("passed"), "Next phase", DISCORD_VIEWER);
    expect(viewer.title).toBe("Not allowed");
  });

  it("a verdict the plan has moved past says so and changes nothing", async () => {
    planAt({ index: 2, name: "Phase 2: Test batch size 2", state: "evaluating" });
    const next = await press(verdict("passed"), "Next phase");
    expect(next.title).toBe("This verdict is out of date");
    expect(next.lines?.[0]).toContain("Now: Phase 2: Test batch size 2 (evaluating)");
    planAt({ index: 1, name: "Phase 1: Test 2 workers", state: "failed, rolled back" });
    const rollback = await press(verdict("failed"), "Roll back");
    expect(rollback.title).toBe("This verdict is out of date");
    expect(f.audit.list({ outcomes: ["requested"] })).toHaveLength(0);
    expect(f.confirmations.get("c1")).toBeNull();
  });
});

describe("numbered choices in the console", () => {
  it("the newest alert's buttons are pressed by number", async () => {
    f.alerts.firing = [
      { rule: "cuda_oom", severity: "critical", summary: "CUDA OOM", since: f.clock.now() },
    ];
    const { session, input, finished, text: printed } = consoleOver(f, CONSOLE);
    await session.show(oomAlert());
    input.end("7\n1\n");
    await finished;
    const text = printed();
    expect(text).toContain(
      "Choose: [1] Mute 1 h  [2] Mute 8 h  [3] Logs  [4] Status (type the number)",
    );
    expect(text).toContain("error: no choice 7 (1-4)");
    expect(text).toContain("Muted CUDA OOM alerts of exp001 for 1 h");
    expect(f.alerts.silences.map((s) => s.rule)).toEqual(["cuda_oom"]);
  });
});
