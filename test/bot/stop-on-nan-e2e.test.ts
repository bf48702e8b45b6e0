import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { BotCoreService } from "../../src/bot/core/bot-core.ts";
import { type Config, configSchema } from "../../src/config/schema.ts";
import type { Message } from "../../src/message/message.ts";
import { AuditRepo } from "../../src/store/audit-repo.ts";
import type { Db } from "../../src/store/database.ts";
import type { MemorySink } from "../alerts/alert-fixture.ts";
import { daemonPiecesOver } from "../harness/command-layer.ts";
import { type SimulatedRun, startSimulatedRun } from "../harness/simulated-run.ts";
import { waitUntil } from "../harness/wait.ts";
import { CONSOLE, DISCORD_VIEWER, RecordingResponder, req, textOf } from "./bot-fixture.ts";

/**
 * Stop on NaN over the real pieces: the simulator (its loss turns NaN) behind a real sshd, the
 * real monitor and alerting, and the real run operations that stop it after a confirmation.
 */

let sim: SimulatedRun;
let db: Db;
let core: BotCoreService;
let sink: MemorySink;
/** One daemon round: poll, rules, delivery. */
let round: () => Promise<void>;

beforeAll(async () => {
  sim = await startSimulatedRun({
    prefix: "trainops-stop-nan-",
    vm: { timeScale: 200, startupSeconds: 0, nanAtStep: 5 },
  });
  const config: Config = configSchema.parse({
    store: join(sim.root, "store.db"),
    runs: [sim.restartableRunEntry()],
    alerts: { console: false, rules: { nan_loss: { stop: true } } },
  });
  const attached = sim.attach(config);
  db = attached.db;
  ({ core, sink, round } = daemonPiecesOver(config, attached, { checkEveryMs: 200 }));
  await sim.vm.start();
}, 60_000);

afterAll(() => sim?.stop());

function button(message: Message, label: string): string {
  const found = message.buttons?.find((b) => b.label === label);
  if (!found) throw new Error(`no '${label}' button on ${message.title}`);
  return found.id;
}

it("a NaN loss alert offers Stop training; confirmed by an operator, training stops, audited and quiet", async () => {
  const responder = new RecordingResponder();
  await waitUntil(
    async () => {
      await round();
      return sink.messages.some((m) => m.title.includes("NaN"));
    },
    { timeoutMs: 40_000, intervalMs: 300, what: "the NaN loss alert" },
  );
  const alert = sink.messages.find((m) => m.title.includes("NaN")) as Message;
  expect(alert.title).toBe("exp001: loss became NaN");
  expect(alert.buttons?.map((b) => b.label)).toEqual([
    "Stop training",
    "Mute 1 h",
    "Mute 8 h",
    "Logs",
    "Status",
  ]);
  expect(textOf(alert)).toContain("press Stop training (it asks to confirm) or `/train stop`");
  expect(sim.vm.isRunning()).toBe(true);

  // A viewer may not stop training: refused and audited, nothing stops.
  const refused = await core.press(
    { buttonId: button(alert, "Stop training"), invoker: DISCORD_VIEWER },
    responder,
  );
  expect(refused.title).toBe("Not allowed");
  expect(sim.vm.isRunning()).toBe(true);

  // The operator gets the preview privately, then confirms.
  const preview = await core.press(
    { buttonId: button(alert, "Stop training"), invoker: CONSOLE },
    responder,
  );
  expect(preview.ephemeral).toBe(true);
  expect(preview.title).toBe("Confirm: Stop training of exp001");
  expect(textOf(preview)).toMatch(/Training stays stopped until `\/train restart`/);
  const applying = await core.press(
    { buttonId: button(preview, "Confirm"), invoker: CONSOLE },
    responder,
  );
  expect(applying.title).toMatch(/^Applying: /);
  await core.idle();
  const done = responder.messages.at(-1) as Message;
  expect(done.severity, textOf(done)).toBe("success");
  expect(done.title).toBe("Done: Stop training of exp001");
  expect(textOf(done)).toMatch(/Training of exp001 stopped \(SIG(INT|TERM|KILL)\)/);
  expect(sim.vm.isRunning()).toBe(false);

  const outcomes = new AuditRepo(db)
    .list({ run: "exp001" })
    .filter((e) => e.command === "stop")
    .map((e) => `${e.outcome}:${e.userId}`)
    .reverse();
  expect(outcomes).toEqual([
    `refused:${DISCORD_VIEWER.userId}`,
    `requested:${CONSOLE.userId}`,
    `confirmed:${CONSOLE.userId}`,
    `applied:${CONSOLE.userId}`,
  ]);
  const journal = db
    .prepare("SELECT kind, step, outcome FROM operation_journal WHERE kind = 'stop'")
    .all();
  expect(journal).toEqual([{ kind: "stop", step: "confirmed", outcome: "applied" }]);

  // The stop was asked for: the process being gone is not a crash.
  const before = sink.messages.length;
  for (let i = 0; i < 3; i++) await round();
  expect(sink.messages.slice(before).map((m) => m.title)).not.toContainEqual(
    expect.stringMatching(/crashed|failed to start/),
  );

  // With training stopped, `/train stop` has nothing to stop and says so.
  const again = await core.execute(req("stop"), responder);
  expect(textOf(again)).toContain("training of exp001 is not running; nothing to stop");
}, 90_000);
