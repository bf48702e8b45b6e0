import { describe, expect, it } from "vitest";
import { planSample, RecordingResponder, req, textOf, useBotFixture } from "./bot-fixture.ts";

const f = useBotFixture();
const responder = new RecordingResponder();

describe("/train status speed", () => {
  it("marks a speed the monitor timed from log arrival with ~ and says so", async () => {
    const now = f.clock.now();
    f.samples.insert(planSample("exp001", now - 60_000, { stepTimeObserved: true }));
    const m = await f.core.execute(req("status", { run: "exp001" }), responder);
    expect(textOf(m)).toContain("~183 steps/h, ~19.7 s/step (timed from log arrival)");
  });

  it("shows the logger's own speed plainly", async () => {
    const now = f.clock.now();
    f.samples.insert(planSample("exp001", now - 60_000, { stepTimeObserved: false }));
    const text = textOf(await f.core.execute(req("status", { run: "exp001" }), responder));
    expect(text).toContain("183 steps/h, 19.7 s/step");
    expect(text).not.toContain("~183");
  });
});
