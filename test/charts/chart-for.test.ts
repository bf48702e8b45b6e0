import { afterEach, describe, expect, it } from "vitest";
import { type RunChartOptions, renderRunChart } from "../../src/charts/run-chart.ts";
import {
  type BotFixture,
  createBotFixture,
  planSample,
  RecordingResponder,
  req,
} from "../bot/bot-fixture.ts";

let f: BotFixture | undefined;
afterEach(() => f?.close());

/** A bot whose chart port records what it was asked to draw, then draws it for real. */
function recordingBot(): { f: BotFixture; seen: RunChartOptions[] } {
  const seen: RunChartOptions[] = [];
  f = createBotFixture({
    charts: {
      render: (source, options) => {
        seen.push(options);
        return renderRunChart(source, options);
      },
    },
  });
  return { f, seen };
}

describe("charts from the command layer", () => {
  it("a verdict's chart request keeps its judged span and the configured time zone", async () => {
    const { f, seen } = recordingBot();
    f.config.timezone = "Europe/Berlin";
    const now = f.clock.now();
    for (let i = 60; i >= 0; i--) f.samples.insert(planSample("exp001", now - i * 60_000));
    const image = await f.core.drawChart({
      run: "exp001",
      from: now - 60 * 60_000,
      to: now + 1,
      name: "exp001-phase1-passed.png",
      title: "exp001: Phase 1 passed",
      focusFrom: now - 30 * 60_000,
    });
    expect(image?.name).toBe("exp001-phase1-passed.png");
    expect(seen[0]).toMatchObject({ focusFrom: now - 30 * 60_000, timeZone: "Europe/Berlin" });
  });

  it("status charts mark restarts and rollbacks applied from chat", async () => {
    const { f, seen } = recordingBot();
    const now = f.clock.now();
    for (let i = 60; i >= 0; i--) f.samples.insert(planSample("exp001", now - i * 60_000));
    for (const [command, ago] of [
      ["restart", 20],
      ["rollback", 10],
    ] as const) {
      f.audit.record({
        at: now - ago * 60_000,
        platform: "discord",
        userId: "1",
        userName: "alice",
        channelId: "900",
        run: "exp001",
        command,
        args: {},
        outcome: "applied",
        detail: null,
      });
    }
    await f.core.execute(req("status", { run: "exp001" }), new RecordingResponder());
    expect(seen[0]?.markers).toEqual([
      { at: now - 20 * 60_000, label: "restart", kind: "restart" },
      { at: now - 10 * 60_000, label: "rollback", kind: "rollback" },
    ]);
    expect(seen[0]?.timeZone).toBe("UTC");
  });
});
