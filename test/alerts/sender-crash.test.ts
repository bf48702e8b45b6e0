import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterEach, expect, it } from "vitest";
import type { ErrorKind } from "../../src/model/monitoring.ts";
import { WebhookServer } from "../harness/webhook-server.ts";
import { type AlertHarness, alertHarness, MIN, sample } from "./alert-fixture.ts";

const CHILD = fileURLToPath(new URL("./sender-child.ts", import.meta.url));

let h: AlertHarness | undefined;
let server: WebhookServer | undefined;
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
  h?.close();
  await server?.close();
});

function startSender(dbPath: string, url: string): ChildProcess {
  const child = spawn(process.execPath, ["--import", "tsx", CHILD, dbPath, url], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  return child;
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.on("exit", (code) => resolve(code)));
}

const KINDS: ErrorKind[] = [
  "cuda_oom",
  "nan_loss",
  "shm_exhausted",
  "nccl_timeout",
  "gpu_fault",
  "worker_killed",
];

it("a sender SIGKILLed mid-delivery and restarted delivers every alert exactly once", async () => {
  server = await WebhookServer.start();
  // Queue six alerts, each sealed into its own message and owed to the webhook, without sending
  // anything from this process (its sink refuses, so every delivery stays pending).
  const refusing = {
    name: "discord-webhook:0",
    deliver: async () => ({
      ok: false as const,
      retryable: true as const,
      retryAfterMs: 0,
      error: "not here",
    }),
  };
  h = alertHarness({ sinks: [refusing] });
  h.samples.insert(sample(h.clock.now() - MIN));
  for (const kind of KINDS) {
    h.addEvent(h.clock.now(), { kind, line: `${kind} happened` });
    h.alerting.evaluate("exp001");
    await h.alerting.deliverDue();
    h.clock.advance(10_000);
  }
  expect(h.alerting.backlog()).toBe(KINDS.length);

  // 1st accepted, then 500, then 429, 2nd accepted, then the 3rd request hangs: kill it there.
  server.script(
    { status: 200 },
    { status: 500 },
    { status: 429, retryAfterSeconds: 0.05 },
    { status: 200 },
    { hold: true },
  );
  const url = `${server.url}/api/webhooks/1/token`;
  const first = startSender(h.path, url);
  await server.waitFor(
    () => server?.received.at(-1)?.outcome === "held" && server.received.length === 5,
    20_000,
  );
  first.kill("SIGKILL");
  await exited(first);
  expect(server.acceptedTotal()).toBe(2);

  const second = startSender(h.path, url);
  expect(await exited(second)).toBe(0);
  const counts = [...server.accepted.values()];
  expect(server.accepted.size).toBe(KINDS.length);
  expect(counts.every((n) => n === 1)).toBe(true);
  const contents = server.received
    .filter((r) => r.outcome === 200)
    .map((r) => (r.body as { content: string }).content);
  expect(contents).toHaveLength(KINDS.length);
  expect(new Set(contents).size).toBe(KINDS.length);
  expect(h.alerting.backlog()).toBe(0);
}, 60_000);
