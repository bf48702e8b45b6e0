import { type Alerting, createAlerting } from "../../src/alerts/create-alerting.ts";
import type { AlertSink } from "../../src/alerts/sinks/alert-sink.ts";
import type { BotCoreService } from "../../src/bot/core/bot-core.ts";
import { systemClock } from "../../src/core/clock.ts";
import type { Actor } from "../../src/ops/run-operations.ts";
import type { AuditRepo } from "../../src/store/audit-repo.ts";
import type { SilenceRecord } from "../../src/store/silences-repo.ts";
import { LocalTransport } from "../../src/transport/local-transport.ts";
import { commandLayerOver } from "../harness/command-layer.ts";
import { createOpsFixture, feed, type OpsFixture } from "../ops/ops-fixture.ts";

/** Who applies the plan's first phase from the terminal before chat takes over. */
const TERMINAL: Actor = { platform: "cli", userId: "ops", name: "ops", channelId: "" };

/**
 * The buttons of the one message a failed phase 1 and its CUDA OOM alert go out as: the
 * verdict's Roll back and Retry, the alert's Mute, then Logs and Status.
 */
export const FAILED_WITH_OOM_BUTTONS = [
  "Roll back",
  "Retry",
  "Mute 1 h",
  "Mute 8 h",
  "Logs",
  "Status",
] as const;

/** A step counter and time the fed samples continue from. */
export type Cursor = { step: number; at: number };

/**
 * The product's parts a chat front end sits on, wired as the daemon wires them: a real SQLite
 * store, the run operations and phase engine over a real trainer process, the alerting engine
 * with its outbox, and the command layer. The test adds its front end's sink to `sinks`.
 */
export interface ChatOpsFixture {
  ops: OpsFixture;
  alerting: Alerting;
  core: BotCoreService;
  audit: AuditRepo;
  /** Where alerts and notices are delivered; read at each delivery. */
  sinks: AlertSink[];
  /** Runs the alert rules and delivers everything queued (alerts, verdicts) to `sinks`. */
  deliver(): Promise<void>;
  /**
   * Measures the baseline, starts the trainer and applies phase 1 (workers 2) from the terminal;
   * what that announced is delivered.
   */
  startPhase1(): Promise<Cursor>;
  /** Phase 1 runs out of GPU memory; with autoRollback off it stays failed until a person acts. */
  failPhase1(from: Cursor): Promise<Cursor>;
  /** Phase 1 steps at 9.4 s (was 18.1 s) and passes. */
  passPhase1(from: Cursor): Promise<Cursor>;
  /**
   * Lifts every mute of the run and lets training step again, so an error alert of before
   * ends; resolves with the rules still firing.
   */
  recover(from: Cursor): string[];
  /** Who applied `command` (platform, user id, user name), as the audit trail says. */
  appliedBy(command: string): Array<[string, string, string]>;
  /** The run's mutes still in force. */
  activeMutes(): SilenceRecord[];
  close(): Promise<void>;
}

/**
 * Starts the fixture for the run `exp`, with `chat` as the `discord:` / `slack:` blocks of the
 * config. autoRollback is off, so a failed phase waits for a person's Roll back.
 */
export function createChatOpsFixture(chat: Record<string, unknown>): ChatOpsFixture {
  const ops = createOpsFixture({ autoRollback: false }, { ...chat, alerts: { groupWindow: "0s" } });
  const { db, config } = ops;
  const sinks: AlertSink[] = [];
  const alerting = createAlerting({
    db,
    config,
    clock: systemClock,
    sinks,
    retry: { baseMs: 10, maxMs: 50 },
  });
  const { core, audit } = commandLayerOver({
    config,
    db,
    operations: ops.ops,
    alerting,
    transport: new LocalTransport(),
  });
  const tick = async (at: number) => (await ops.ops.engine.tick("exp", at)).action;
  const deliver = async () => {
    alerting.evaluate("exp");
    await alerting.deliverDue();
  };
  return {
    ops,
    alerting,
    core,
    audit,
    sinks,
    deliver,
    async startPhase1() {
      const measured = feed(ops, { step: 500, at: Date.now() - 5000 }, 25);
      await expectAction(tick(measured.at + 1), "baseline-started");
      await expectAction(tick(measured.at + 1), "passed");
      await ops.ops.apply(await ops.ops.preview("restart", "exp"), TERMINAL);
      const applied = await ops.ops.apply(await ops.ops.preview("next-phase", "exp"), TERMINAL);
      if (!applied.ok) throw new Error(`phase 1 did not start: ${applied.summary}`);
      // What these steps announced (baseline measured, phase 1 started) goes out now, as the
      // daemon's sender sends it long before phase 1 is judged.
      await deliver();
      return { step: 0, at: Date.now() };
    },
    async failPhase1(from) {
      const at = feed(ops, from, 5, { stepTime: 9, vramGiB: 79.5 });
      ops.events.insert("exp", at.at, {
        kind: "cuda_oom",
        line: "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB",
        lineNumber: 12,
        source: "log",
      });
      await expectAction(tick(at.at + 1), "failed");
      return at;
    },
    async passPhase1(from) {
      let at = feed(ops, from, 10, { stepTime: 30 });
      await tick(at.at + 1);
      at = feed(ops, at, 101, { stepTime: 9.4, vramGiB: 77.6, ramGiB: 14 });
      await expectAction(tick(at.at + 1), "passed");
      return at;
    },
    recover(from) {
      for (const s of alerting.listSilences("exp"))
        if (s.endedAt === null) alerting.unsilence(s.id);
      const stepped = feed(ops, { step: from.step, at: Math.max(from.at, Date.now()) }, 3);
      alerting.evaluate("exp", stepped.at + 1);
      return alerting.listFiring("exp").map((a) => a.rule);
    },
    appliedBy(command) {
      return audit
        .list({ outcomes: ["applied"] })
        .filter((e) => e.command === command)
        .map((e) => [e.platform, e.userId, e.userName]);
    },
    activeMutes() {
      return alerting.listSilences("exp").filter((s) => s.endedAt === null);
    },
    async close() {
      await core.idle();
      await alerting.senderLoop.stop();
      await ops.cleanup();
    },
  };
}

async function expectAction(action: Promise<string>, expected: string): Promise<void> {
  const got = await action;
  if (got !== expected) throw new Error(`the phase engine did '${got}', not '${expected}'`);
}
