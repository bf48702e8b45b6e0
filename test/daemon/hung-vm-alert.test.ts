import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase } from "../../src/store/database.ts";
import { PollsRepo } from "../../src/store/polls-repo.ts";
import { spawnTrainops, type TrainopsProcess } from "../harness/cli.ts";
import { endDaemonTest } from "../harness/daemon-fixture.ts";
import { type SimulatedRun, startSimulatedRun } from "../harness/simulated-run.ts";
import { freezeSshd } from "../harness/sshd-freeze.ts";
import { waitUntil } from "../harness/wait.ts";
import { WebhookServer } from "../harness/webhook-server.ts";

let sim: SimulatedRun;
let webhook: WebhookServer;
let daemon: TrainopsProcess | null = null;
let thaw: (() => void) | null = null;

beforeAll(async () => {
  webhook = await WebhookServer.start();
  sim = await startSimulatedRun({
    prefix: "trainops-hung-alert-",
    vm: { timeScale: 200, startupSeconds: 0.5 },
  });
  await sim.vm.start();
}, 60_000);

afterAll(async () => {
  thaw?.();
  await endDaemonTest({ daemon, sim, webhook });
});

/** The text of every message the webhook received, in order. */
const delivered = (): string[] => webhook.received.map((r) => JSON.stringify(r.body));

describe("a VM whose SSH session hangs, under the daemon", () => {
  it("delivers the unreachable alert after the configured failed polls, then its resolution", async () => {
    const store = join(sim.root, "trainops.db");
    const configPath = sim.writeConfig({
      store,
      poll: "*/1 * * * * *",
      runs: [
        sim.runEntry({
          ssh: { ...sim.sshd.runConfigSsh(), execTimeout: "2s", connectTimeout: "2s" },
          follow: false,
        }),
      ],
      alerts: {
        console: false,
        groupWindow: "1s",
        webhooks: [{ kind: "slack", url: `${webhook.url}/hook` }],
        rules: { unreachable: { polls: 2 } },
      },
      http: { port: 0 },
    });
    daemon = spawnTrainops(["start", "--config", configPath]);
    const db = openDatabase(store);
    const polls = new PollsRepo(db);
    try {
      await waitUntil(() => polls.recent("exp001", 5).some((p) => p.outcome === "ok"), {
        timeoutMs: 60_000,
        what: "a first poll by the daemon",
      });

      // The VM stops answering: the open session and any new one hang (no error, no close).
      ({ thaw } = freezeSshd(sim.sshd.pid));
      const alert = await waitUntil(
        () => delivered().find((text) => text.includes("VM unreachable for")),
        { timeoutMs: 90_000, what: `the unreachable alert in chat; got ${delivered().join("\n")}` },
      );
      // Not before the configured count: the polls it names failed, each at its deadline.
      const count = Number(/VM unreachable for (\d+) polls/.exec(alert)?.[1]);
      expect(count).toBeGreaterThanOrEqual(2);
      const failed = polls.recent("exp001", 50).filter((p) => p.outcome === "unreachable");
      expect(failed.length).toBeGreaterThanOrEqual(2);
      expect(alert).toContain("No answer to");

      thaw?.();
      thaw = null;
      await waitUntil(() => delivered().some((text) => text.includes("The VM answers again")), {
        timeoutMs: 90_000,
        what: `the resolution in chat; got ${delivered().join("\n")}`,
      });
      // One alert and one resolution: the hang was not reported twice.
      expect(delivered().filter((text) => text.includes("VM unreachable for"))).toHaveLength(1);
      expect(delivered().filter((text) => text.includes("The VM answers again"))).toHaveLength(1);
      daemon.child.kill("SIGTERM");
      expect(await daemon.exited).toBe(0);
      daemon = null;
    } finally {
      db.close();
    }
  }, 240_000);
});
