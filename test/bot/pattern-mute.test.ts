import { expect, it } from "vitest";
import { RecordingResponder, req, useBotFixture } from "./bot-fixture.ts";

const f = useBotFixture({}, ["exp001"]);
const responder = new RecordingResponder();

it("/train mute takes every pattern or one, and words them for people", async () => {
  const all = await f.core.execute(
    req("mute", { run: "exp001", rule: "pattern", duration: "2h", reason: "disk swap" }),
    responder,
  );
  expect(all.title).toBe("Muted log pattern alerts of exp001 for 2 h");
  const one = await f.core.execute(
    req("mute", {
      run: "exp001",
      rule: "pattern:checkpoint_failed",
      duration: "1h",
      reason: "disk swap",
    }),
    responder,
  );
  expect(one.title).toBe("Muted checkpoint failed pattern alerts of exp001 for 1 h");
  expect(f.alerts.silences.map((s) => s.rule)).toEqual(["pattern", "pattern:checkpoint_failed"]);
});
