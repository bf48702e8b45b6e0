import { expect, it } from "vitest";
import { planSample, RecordingResponder, req, useBotFixture } from "./bot-fixture.ts";

// `/train status` of a run whose training is down: stopped on purpose by someone (the audit
// trail's newest applied change is a stop) reads as such, not as a failure.

const f = useBotFixture();
const responder = new RecordingResponder();

function audit(command: string, userName: string, at: number): void {
  f.audit.record({
    at,
    platform: "console",
    userId: userName,
    userName,
    channelId: "console",
    run: "exp001",
    command,
    args: {},
    outcome: "applied",
    detail: "",
  });
}

it("says who stopped training and when, as a warning, until training is started again", async () => {
  const now = f.clock.now();
  f.samples.insert(planSample("exp001", now - 60_000));
  audit("stop", "alice", Date.UTC(2026, 11, 7, 10, 56));
  f.samples.insert(planSample("exp001", now, { alive: false }));
  const stopped = await f.core.execute(req("status", { run: "exp001" }), responder);
  expect(stopped.severity).toBe("warning");
  expect(stopped.lines?.[0]).toBe(
    "Stopped by alice at 10:56 UTC (`/train stop`); `/train restart` resumes it.",
  );

  // Restarted since, then dead: that is a failure again.
  audit("restart", "bob", Date.UTC(2026, 11, 7, 11, 0));
  const dead = await f.core.execute(req("status", { run: "exp001" }), responder);
  expect(dead.severity).toBe("critical");
  expect(dead.lines?.[0]).toContain("Training process is not running");
});
