import { afterEach, describe, expect, it } from "vitest";
import { configSchema } from "../../src/config/schema.ts";
import {
  formatClock,
  formatCount,
  formatDateTime,
  formatGiB,
  formatMoney,
  formatSeconds,
  formatSpan,
} from "../../src/message/format.ts";
import { type BotFixture, createBotFixture, RecordingResponder, req } from "./bot-fixture.ts";

let f: BotFixture | null = null;
afterEach(() => f?.close());

describe("one formatter, one time zone", () => {
  it("prints each kind of figure one way", () => {
    expect(formatCount(128000)).toBe("128,000");
    expect(formatGiB(0.36 * 1024 ** 3)).toBe("0.4 GiB");
    expect([9.4, 0.85, 18, 18.14].map(formatSeconds)).toEqual([
      "9.4 s",
      "0.85 s",
      "18 s",
      "18.1 s",
    ]);
    expect([240, 72_000, 26.7 * 86_400].map(formatSpan)).toEqual(["4 min", "20.0 h", "26.7 days"]);
    expect(formatMoney(1650.4, "USD")).toBe("$1,650");
    expect(formatMoney(32.77, "USD")).toBe("$32.77");
    expect(formatMoney(12.3, "EUR")).toBe("€12.30");
    const at = Date.UTC(2026, 2, 1, 14, 2);
    expect(formatClock(at)).toBe("14:02 UTC");
    expect(formatDateTime(at, "Europe/Berlin")).toBe("2026-03-01 15:02 CET");
    expect(formatClock(at, "America/New_York")).toBe("09:02 GMT-5");
  });

  it("the config's timezone sets the clock times chat shows", async () => {
    f = createBotFixture();
    const config = { ...f.config, timezone: "Europe/Berlin" };
    f.close();
    f = createBotFixture({ config });
    const responder = new RecordingResponder();
    const mute = await f.core.execute(
      req("mute", { run: "exp001", duration: "2h", reason: "maintenance" }),
      responder,
    );
    expect(mute.lines?.[0]).toBe("Until 2026-03-01 15:00 CET. Reason: maintenance.");
    const confirm = await f.core.execute(req("set", { run: "exp001", workers: "3" }), responder);
    expect(confirm.lines?.[1]).toMatch(/Expires in 10 min \(13:10 CET\)\.$/);
  });

  it("an unknown time zone is a config error that says what to write", () => {
    const parsed = configSchema.safeParse({
      timezone: "Mars/Olympus",
      runs: [{ name: "a", ssh: "local", workdir: "/tmp", log: "x.log" }],
    });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.message).toBe(
      "expected an IANA time zone such as UTC, Europe/Berlin or America/New_York",
    );
  });
});
