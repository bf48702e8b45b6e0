/**
 * A run monitor as a separate process, so a test can SIGKILL it at any moment: polls the run
 * described by the JSON in argv[3] into the store at argv[2] every 100 ms, with its follow
 * stream on when the config says so, until it is killed.
 */
import { runSchema } from "../../src/config/schema.ts";
import { systemClock } from "../../src/core/clock.ts";
import { RunMonitor } from "../../src/monitors/run-monitor.ts";
import { openDatabase } from "../../src/store/database.ts";
import { createMonitorStore } from "../../src/store/monitor-store.ts";
import { SshTransport } from "../../src/transport/ssh-transport.ts";

const [dbPath, runJson] = process.argv.slice(2) as [string, string];
// Every streamed byte wakes a read: the chaos tests exercise follow reads racing polls.
const run = runSchema.parse({ followWakes: "all", ...JSON.parse(runJson) });
if (run.ssh === "local") throw new Error("the monitor child reads over SSH");
const store = createMonitorStore(openDatabase(dbPath));
const monitor = new RunMonitor({
  run,
  transport: new SshTransport(run.ssh),
  store,
  clock: systemClock,
});
for (;;) {
  const r = await monitor.pollOnce();
  if (process.env.CHAOS_DEBUG) {
    const o = store.offsets.get(run.name);
    console.error(
      "poll",
      r.outcome,
      r.message,
      o?.inode,
      o?.offset,
      o?.prefixLength,
      o?.prefixSum,
      o?.rotatedStamp,
      r.events.map((e) => /marker-(\d+)/.exec(e.line)?.[1]).join(","),
    );
  }
  await monitor.startFollow();
  await new Promise((resolve) => setTimeout(resolve, 100));
}
