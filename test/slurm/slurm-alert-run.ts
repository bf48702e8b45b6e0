import { readFileSync } from "node:fs";
import { type Alerting, createAlerting } from "../../src/alerts/create-alerting.ts";
import { parseConfig } from "../../src/config/load-config.ts";
import { systemClock } from "../../src/core/clock.ts";
import type { Message } from "../../src/message/message.ts";
import type { RunMonitor } from "../../src/monitors/run-monitor.ts";
import type { Db } from "../../src/store/database.ts";
import { MemorySink } from "../alerts/alert-fixture.ts";
import { waitUntil } from "../harness/wait.ts";
import type { SlurmFixture } from "./slurm-fixture.ts";

/** A monitor and the alerting of a Slurm run, driven poll by poll as the daemon does. */
export interface SlurmAlertRun {
  monitor: RunMonitor;
  db: Db;
  alerting: Alerting;
  sink: MemorySink;
  /** One poll, one evaluation, one delivery round. */
  cycle(): Promise<void>;
  /** Cycles until a delivered message's title matches; returns it. */
  until(pattern: RegExp, what: string, timeoutMs?: number, intervalMs?: number): Promise<Message>;
}

/** Wires a monitor and alerting for the fixture's exp001 with `rules` settings. */
export function slurmAlertRun(
  fx: SlurmFixture,
  rules: Record<string, unknown> = {},
  runExtra: Record<string, unknown> = {},
): SlurmAlertRun {
  const path = fx.sim.writeConfig({
    store: `${fx.sim.root}/store-${Math.random().toString(36).slice(2)}.db`,
    runs: [fx.runEntry(runExtra)],
    alerts: { console: false, groupWindow: "0s", rules },
  });
  const config = parseConfig(readFileSync(path, "utf8"));
  const { monitor, db } = fx.sim.attach(config);
  const sink = new MemorySink();
  const alerting = createAlerting({ db, config, clock: systemClock, sinks: [sink] });
  const cycle = async () => {
    await monitor.pollOnce();
    alerting.evaluate("exp001");
    await alerting.deliverDue();
  };
  return {
    monitor,
    db,
    alerting,
    sink,
    cycle,
    async until(pattern, what, timeoutMs = 60_000, intervalMs = 500) {
      let found: Message | undefined;
      await waitUntil(
        async () => {
          await cycle();
          found = sink.messages.find((m) => pattern.test(text(m)));
          return found !== undefined;
        },
        { timeoutMs, intervalMs, what },
      );
      return found as Message;
    },
  };
}

/** Title, lines and quote of a message as one text, for matching. */
export function text(message: Message): string {
  return JSON.stringify(message);
}
