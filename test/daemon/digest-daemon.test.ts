import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configSchema } from "../../src/config/schema.ts";
import { ManualClock } from "../../src/core/clock.ts";
import { type App, startApp } from "../../src/runtime/app.ts";
import { openDatabase } from "../../src/store/database.ts";
import { SamplesRepo } from "../../src/store/samples-repo.ts";
import { runSample } from "../harness/sample-factory.ts";
import { waitUntil } from "../harness/wait.ts";
import { WebhookServer } from "../harness/webhook-server.ts";

/** 2026-12-07 (a Monday) `hour:minute` in New York (UTC−5 in December). */
const newYork = (hour: number, minute = 0, second = 0) =>
  Date.UTC(2026, 11, 7, hour + 5, minute, second);

let dir: string;
let webhook: WebhookServer;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "trainops-digest-daemon-"));
  writeFileSync(join(dir, "train.log"), "");
  webhook = await WebhookServer.start();
});
afterAll(async () => {
  await webhook?.close();
  rmSync(dir, { recursive: true, force: true });
});

const config = () =>
  configSchema.parse({
    store: join(dir, "trainops.db"),
    poll: "1h",
    timezone: "America/New_York",
    runs: [
      {
        name: "exp001",
        ssh: "local",
        workdir: dir,
        log: "train.log",
        steps: { perEpoch: 4000, epochs: 32 },
        cost: { perHour: 32.77, currency: "USD" },
      },
    ],
    alerts: {
      console: false,
      webhooks: [{ kind: "json", url: `${webhook.url}/digest`, digest: { at: "09:00" } }],
    },
  });

const start = (clock: ManualClock): Promise<App> =>
  startApp({
    config: config(),
    configDir: dir,
    log: pino({ level: "silent" }),
    clock,
    http: false,
  });

const digests = () =>
  webhook.received.filter((r) => (r.body as { title?: string }).title?.startsWith("Digest"));

describe("the daemon's digest", () => {
  it("goes out once at the channel's time, through the outbox, and not again after a restart", async () => {
    const db = openDatabase(join(dir, "trainops.db"));
    new SamplesRepo(db).insertMany(
      Array.from({ length: 25 }, (_, i) =>
        runSample({ at: newYork(8) - (24 - i) * 3_600_000, step: 10_000 + i * 200 }),
      ),
    );
    const periods = () =>
      db.prepare("SELECT COUNT(*) AS n FROM digest_periods").get() as { n: number };

    const clock = new ManualClock(newYork(8, 59));
    let app = await start(clock);
    try {
      // The schedule starts at yesterday's 09:00; nothing is due before today's.
      await waitUntil(() => periods().n === 1, { what: "the digest schedule's start" });
      await app.alerting.deliverDue();
      expect(digests()).toEqual([]);
      clock.set(newYork(9, 0, 5));
      await webhook.waitFor(() => digests().length === 1);
      const body = digests()[0]?.body as { title: string; lines: string[]; fields: unknown };
      expect(body.title).toBe("Digest: last 24.0 h, to 2026-12-07 09:00 GMT-5");
      expect(JSON.stringify(body)).toContain("Steps: 10,200 → 14,800 of 128,000 (+4,600");
      await app.stop();

      app = await start(clock);
      clock.set(newYork(9, 30));
      await app.alerting.deliverDue();
      expect(digests()).toHaveLength(1);
      expect(periods().n).toBe(2);
    } finally {
      await app.stop();
      db.close();
    }
  });
});
