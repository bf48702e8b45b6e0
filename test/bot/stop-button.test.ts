import { expect, it } from "vitest";
import { firingMessage } from "../../src/alerts/alert-message.ts";
import type { Message } from "../../src/message/message.ts";
import { CONSOLE, RecordingResponder, useBotFixture } from "./bot-fixture.ts";

const f = useBotFixture({}, ["exp001"]);
const responder = new RecordingResponder();

/** A NaN loss alert as the engine words it, with or without the opt-in stop. */
function nanAlert(offerStop: boolean): Message {
  return firingMessage(
    {
      run: "exp001",
      rule: "nan_loss",
      label: "NaN loss",
      phase: null,
      severity: "critical",
      since: f.clock.now(),
      mentions: { users: [], roles: [] },
      dedupeKey: "nan_loss|exp001|-",
      node: "localhost",
      repeatIntervalMs: 0,
    },
    { headline: "loss became NaN", lines: ["The loss is no longer a number."], offerStop },
  );
}

it("only an alert whose rule asks for it offers Stop training", () => {
  expect(nanAlert(false).buttons?.map((b) => b.label)).toEqual([
    "Mute 1 h",
    "Mute 8 h",
    "Logs",
    "Status",
  ]);
  expect(nanAlert(true).buttons?.[0]).toMatchObject({ label: "Stop training", style: "danger" });
});

it("Stop training on an alert that resolved says so and stops nothing", async () => {
  f.alerts.firing = [];
  const stop = nanAlert(true).buttons?.[0]?.id as string;
  const answer = await f.core.press({ buttonId: stop, invoker: CONSOLE }, responder);
  expect(answer.ephemeral).toBe(true);
  expect(answer.title).toBe("Alert already resolved");
  expect(answer.lines?.[0]).toBe(
    "The NaN loss alert of exp001 is no longer firing; nothing was stopped. `/train stop` stops training anyway.",
  );
  expect(f.ops.applied).toEqual([]);
});
