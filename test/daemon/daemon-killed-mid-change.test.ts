import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ChangeLocksRepo } from "../../src/store/change-locks-repo.ts";
import { type Db, openDatabase } from "../../src/store/database.ts";
import { OperationJournalRepo } from "../../src/store/operation-journal-repo.ts";
import { PollsRepo } from "../../src/store/polls-repo.ts";
import { spawnTrainops, type TrainopsProcess } from "../harness/cli.ts";
import {
  configuredWorkers,
  endDaemonTest,
  recoveryNotices,
  TEST_RESTART,
} from "../harness/daemon-fixture.ts";
import { FakeSlack } from "../harness/fake-slack/fake-slack.ts";
import { type SimulatedRun, startSimulatedRun } from "../harness/simulated-run.ts";
import { waitUntil } from "../harness/wait.ts";
import { WebhookServer } from "../harness/webhook-server.ts";

// The change runs inside the daemon (asked in chat, confirmed by a button), and the daemon
// itself is killed in the middle of it: the next daemon finds the journal and the lock of a
// holder that is gone, and finishes or undoes the change before anything else.

const RUN = "exp001";
const OPERATOR = "U0OPERATOR1";
const CHANNEL = "C0CHANNEL01";
const STEPS = ["locked", "config-written", "stop-sent", "started", "confirmed"] as const;

let sim: SimulatedRun<null>;
let slack: FakeSlack;
let webhook: WebhookServer;
let configPath: string;
let daemon: TrainopsProcess | null = null;
let db: Db;

beforeAll(async () => {
  slack = await FakeSlack.start();
  webhook = await WebhookServer.start();
  sim = await startSimulatedRun({
    prefix: "trainops-killed-mid-change-",
    ssh: "local",
    vm: { timeScale: 100, startupSeconds: 1 },
  });
  const store = join(sim.root, "trainops.db");
  configPath = sim.writeConfig({
    store,
    poll: "*/1 * * * * *",
    runs: [sim.restartableRunEntry({ restart: TEST_RESTART })],
    alerts: {
      console: false,
      groupWindow: "1s",
      webhooks: [{ kind: "slack", url: `${webhook.url}/hook` }],
    },
    http: { port: 0 },
    slack: {
      botToken: slack.botToken,
      appToken: slack.appToken,
      mode: "socket",
      alertChannel: CHANNEL,
      operators: { users: [OPERATOR] },
      apiUrl: slack.apiUrl,
    },
  });
  await sim.vm.start();
  await sim.waitForSteps();
  db = openDatabase(store);
}, 90_000);

afterAll(async () => {
  await endDaemonTest({ daemon, db, sim, webhook });
  await slack?.stop();
});

async function startDaemon(): Promise<TrainopsProcess> {
  const started = spawnTrainops(["start", "--config", configPath]);
  const polls = new PollsRepo(db);
  const since = Date.now();
  await waitUntil(
    () =>
      slack.link.open > 0 &&
      polls.recent(RUN, 5).some((p) => p.outcome === "ok" && p.startedAt > since),
    { timeoutMs: 60_000, what: `the daemon polling and on Slack:\n${started.stderr()}` },
  );
  return started;
}

describe("the daemon killed in the middle of a change it runs", () => {
  // After the stop signal: training is down until the journal's next owner acts. (The CLI's
  // kills at every step are in interrupted-change.test.ts.)
  it.each([["stop-sent", 3]] as const)(
    "SIGKILL at %s: the next daemon rolls the change forward or back, frees the lock, tells chat once",
    async (step, workers) => {
      const journal = new OperationJournalRepo(db);
      const before = journal.list(RUN, 1)[0]?.id ?? 0;
      const noticesBefore = recoveryNotices(db, RUN).length;
      const old = configuredWorkers(sim);
      daemon = await startDaemon();

      // Asked and confirmed in chat: the daemon runs the change.
      const asked = slack.messages.length;
      await (
        await slack.sendSlashCommand({
          text: `set ${RUN} workers=${workers}`,
          userId: OPERATOR,
          channelId: CHANNEL,
        })
      ).acked;
      const confirmation = await slack.waitFor(
        () =>
          slack.messages.slice(asked).find((m) => JSON.stringify(m.blocks).includes("confirm:")),
        30_000,
        "the confirmation",
      );
      const actions = (confirmation.blocks as Array<{ type: string; elements?: unknown[] }>).find(
        (b) => b.type === "actions",
      );
      const confirm = (
        (actions?.elements ?? []) as Array<{ action_id: string; value: string }>
      ).find((e) => e.value.startsWith("confirm:"));
      if (!confirm) throw new Error("no Confirm button");
      await (
        await slack.pressButton({
          actionId: confirm.action_id,
          value: confirm.value,
          userId: OPERATOR,
          channelId: CHANNEL,
          messageTs: confirmation.ts,
          messageBlocks: confirmation.blocks,
        })
      ).acked;

      // The barrier: the daemon's own journal shows the step.
      const reached = await waitUntil(
        () => {
          const entry = journal.list(RUN, 1)[0];
          if (!entry || entry.id <= before) return false;
          return STEPS.indexOf(entry.step) >= STEPS.indexOf(step) ? entry.step : false;
        },
        { timeoutMs: 60_000, intervalMs: 5, what: `the change to reach ${step}` },
      );
      daemon.child.kill("SIGKILL");
      await daemon.exited;
      // Left behind: an unfinished change and its lock, held by a process that is gone.
      expect(journal.unfinished(RUN).length).toBe(1);
      expect(new ChangeLocksRepo(db).get(RUN)).not.toBeNull();

      daemon = await startDaemon();
      await waitUntil(
        () =>
          recoveryNotices(db, RUN).length === noticesBefore + 1 &&
          journal.unfinished(RUN).length === 0 &&
          new ChangeLocksRepo(db).get(RUN) === null,
        { timeoutMs: 120_000, what: `the interrupted change (at ${reached}) to be recovered` },
      );
      await waitUntil(() => sim.vm.isRunning(), { timeoutMs: 60_000, what: "training running" });
      const notice = recoveryNotices(db, RUN).at(-1) as string;
      if (/the change is kept/.test(notice)) expect(configuredWorkers(sim)).toBe(workers);
      else expect(configuredWorkers(sim)).toBe(old);
      // One notice in chat for the recovery, through the new daemon's outbox.
      const delivered = () =>
        webhook.received.filter((r) => JSON.stringify(r.body).includes("interrupted change"));
      await waitUntil(() => delivered().length >= noticesBefore + 1, {
        timeoutMs: 30_000,
        what: "the recovery notice in chat",
      });
      daemon.child.kill("SIGTERM");
      expect(await daemon.exited).toBe(0);
      daemon = null;
      expect(delivered()).toHaveLength(noticesBefore + 1);
    },
    300_000,
  );
});
