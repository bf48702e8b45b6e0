import { afterEach, describe, expect, it } from "vitest";
import { renderRunChart } from "../../src/charts/run-chart.ts";
import type { ChartRequest, Message } from "../../src/message/message.ts";
import { chartDrawer } from "../../src/runtime/chart-drawer.ts";
import { type Db, openDatabase } from "../../src/store/database.ts";
import { NoticesRepo } from "../../src/store/notices-repo.ts";
import {
  type AlertHarness,
  alertHarness,
  fillSamples,
  MemorySink,
  MIN,
  sample,
} from "./alert-fixture.ts";

let h: AlertHarness | undefined;
let db: Db | undefined;
afterEach(() => {
  db?.close();
  db = undefined;
  h?.close();
  h = undefined;
});

/** A phase verdict as the engine queues it: text now, the chart of its window at delivery. */
function queueVerdict(harness: AlertHarness, chart: ChartRequest): void {
  db = openDatabase(harness.path);
  const message: Message = {
    title: "exp001: Phase 1 passed (Test 2 workers)",
    severity: "success",
    lines: ["Phase 1 passed: 9.4 s/step (was 18.1 s, 1.9x)"],
    charts: [chart],
  };
  new NoticesRepo(db).enqueue(message, "phase:exp001:2:passed", "exp001", harness.clock.now());
}

describe("verdict charts", () => {
  it("are drawn once at delivery, from the store, and every sink gets the same PNG", async () => {
    const drawn: ChartRequest[] = [];
    const sinks = [new MemorySink("a"), new MemorySink("b")];
    h = alertHarness({
      sinks,
      prepare: chartDrawer(async (request) => {
        drawn.push(request);
        const harness = h as AlertHarness;
        return renderRunChart(
          { samples: harness.samples, events: harness.events },
          { run: request.run, from: request.from, to: request.to, name: request.name },
        );
      }),
    });
    const from = h.clock.now() - 60 * MIN;
    fillSamples(h, from, h.clock.now() - MIN, (at, i) =>
      sample(at, { stepTimeSeconds: i < 30 ? 18.1 : 9.4 }),
    );
    const request = { run: "exp001", from, to: h.clock.now(), name: "exp001-phase1-passed.png" };
    queueVerdict(h, request);

    expect(await h.alerting.deliverDue()).toBe(2);
    expect(drawn).toEqual([request]);
    const [a, b] = sinks.map((s) => s.messages[0] as Message);
    expect(a?.charts).toBeUndefined();
    expect(a?.lines).toEqual(["Phase 1 passed: 9.4 s/step (was 18.1 s, 1.9x)"]);
    expect(a?.images?.map((i) => i.name)).toEqual(["exp001-phase1-passed.png"]);
    const png = a?.images?.[0]?.png as Buffer;
    expect(png.subarray(1, 4).toString()).toBe("PNG");
    expect(png.readUInt32BE(16)).toBe(800); // IHDR width
    expect(b?.images?.[0]?.png.equals(png)).toBe(true);
  });

  it("a chart that cannot be drawn leaves the verdict's text to go out", async () => {
    h = alertHarness({
      prepare: chartDrawer(async () => {
        throw new Error("canvas unavailable");
      }),
    });
    queueVerdict(h, { run: "exp001", from: 0, to: h.clock.now(), name: "x.png" });
    expect(await h.alerting.deliverDue()).toBe(1);
    const delivered = h.sink.messages[0] as Message;
    expect(delivered.title).toBe("exp001: Phase 1 passed (Test 2 workers)");
    expect(delivered.charts).toBeUndefined();
    expect(delivered.images).toBeUndefined();
  });

  it("without a renderer (trainops poll --once) the request is dropped, not sent raw", async () => {
    h = alertHarness();
    queueVerdict(h, { run: "exp001", from: 0, to: h.clock.now(), name: "x.png" });
    expect(await h.alerting.deliverDue()).toBe(1);
    expect(h.sink.messages[0]).not.toHaveProperty("charts");
  });
});
