/**
 * The sender as a separate process, for the crash test: delivers the outbox of the store at
 * argv[2] to the Discord-style webhook at argv[3], and exits 0 once nothing is owed.
 */
import { createAlerting } from "../../src/alerts/create-alerting.ts";
import { systemClock } from "../../src/core/clock.ts";
import { DiscordWebhookSink } from "../../src/platforms/discord/discord-webhook-sink.ts";
import { openDatabase } from "../../src/store/database.ts";
import { testConfig } from "./alert-fixture.ts";

const [dbPath, url] = process.argv.slice(2) as [string, string];
const db = openDatabase(dbPath);
const alerting = createAlerting({
  db,
  config: testConfig(),
  clock: systemClock,
  sinks: [new DiscordWebhookSink("discord-webhook:0", url)],
  retry: { baseMs: 50, maxMs: 200 },
  tickMs: 20,
});
alerting.senderLoop.start();
const check = setInterval(async () => {
  if (alerting.backlog() > 0) return;
  clearInterval(check);
  await alerting.senderLoop.stop();
  db.close();
  process.exit(0);
}, 20);
