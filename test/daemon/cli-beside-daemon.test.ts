import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuditRepo } from "../../src/store/audit-repo.ts";
import { type Db, openDatabase } from "../../src/store/database.ts";
import { PollsRepo } from "../../src/store/polls-repo.ts";
import { runTrainops, spawnTrainops, type TrainopsProcess } from "../harness/cli.ts";
import { endDaemonTest, startDaemonFixture, TEST_RESTART } from "../harness/daemon-fixture.ts";
import type { SimulatedRun } from "../harness/simulated-run.ts";
import { waitUntil } from "../harness/wait.ts";
import type { WebhookServer } from "../harness/webhook-server.ts";

let sim: SimulatedRun;
let webhook: WebhookServer;
let configPath: string;
let storePath: string;
let daemon: TrainopsProcess | null = null;
let db: Db;

beforeAll(async () => {
  ({ sim, webhook, configPath, storePath } = await startDaemonFixture({
    prefix: "trainops-cli-daemon-",
    vm: { timeScale: 100, startupSeconds: 1 },
    run: (run) => run.restartableRunEntry({ restart: TEST_RESTART }),
    groupWindow: "1s",
    waitForSteps: true,
  }));
}, 90_000);

afterAll(() => endDaemonTest({ daemon, db, sim, webhook }));

/** Text of every message the webhook received (Slack payloads), one per entry. */
function deliveredTexts(): string[] {
  return webhook.received.map((r) => JSON.stringify(r.body));
}

describe("an operation from the terminal while the daemon runs", () => {
  it("restarts with no crash or stall alert, audits the CLI, and tells chat", async () => {
    daemon = spawnTrainops(["start", "--config", configPath]);
    db = openDatabase(storePath);
    const polls = new PollsRepo(db);
    await waitUntil(() => polls.recent("exp001", 3).filter((p) => p.outcome === "ok").length >= 3, {
      timeoutMs: 60_000,
      what: "three successful polls by the daemon",
    });

    const restart = await runTrainops(["restart", "--yes", "--config", configPath], {
      timeoutMs: 120_000,
    });
    expect(restart.stderr).toBe("");
    expect(restart.code).toBe(0);
    expect(restart.stdout).toMatch(/✓ exp001 restarted/);
    const finishedAt = Date.now();

    // Barrier: the outcome reached chat through the daemon's outbox, and the daemon has polled
    // the running job twice since the restart ended; a crash or stall alert would be raised by
    // then (the job was seen stopped while it restarted).
    await waitUntil(() => deliveredTexts().some((t) => t.includes("Restart training of exp001")), {
      timeoutMs: 60_000,
      what: "the restart's notice in chat",
    });
    await waitUntil(
      () =>
        polls.recent("exp001", 20).filter((p) => p.outcome === "ok" && p.startedAt > finishedAt)
          .length >= 2,
      { timeoutMs: 30_000, what: "two polls after the restart" },
    );

    const notice = deliveredTexts().find((t) => t.includes("Restart training of exp001"));
    expect(notice).toContain("done");
    expect(notice).toMatch(/Asked by [\w.-]+ \(cli\) from the terminal/);
    const alerts = db
      .prepare("SELECT rule, state FROM alerts WHERE run = 'exp001'")
      .all() as Array<{
      rule: string;
      state: string;
    }>;
    expect(alerts.filter((a) => a.rule === "crashed" || a.rule === "stalled")).toEqual([]);
    expect(alerts.filter((a) => a.state === "firing")).toEqual([]);
    expect(deliveredTexts().filter((t) => /crash|stall|failed to start/i.test(t))).toEqual([]);

    const [entry] = new AuditRepo(db).list({ run: "exp001", outcomes: ["applied"] });
    expect(entry).toMatchObject({ platform: "cli", command: "restart", outcome: "applied" });
    expect(entry?.detail).toBe("exp001 restarted");
    expect(entry?.durationMs).toBeGreaterThan(0);

    daemon.child.kill("SIGTERM");
    expect(await daemon.exited).toBe(0);
    daemon = null;
  }, 240_000);
});
