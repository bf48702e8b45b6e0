import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { transportLogTail } from "../../src/bot/core/transport-log-tail.ts";
import { configSchema } from "../../src/config/schema.ts";
import { systemClock } from "../../src/core/clock.ts";
import { LocalTransport } from "../../src/transport/local-transport.ts";
import { remotesOver } from "../../src/transport/run-remote.ts";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "trainops-tail-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("transportLogTail", () => {
  it("reads the last lines of a log whose path has spaces, quotes and $", async () => {
    const workdir = join(dir, "it's a $HOME dir");
    mkdirSync(workdir);
    writeFileSync(
      join(workdir, "train log.txt"),
      `${Array.from({ length: 50 }, (_, i) => `line ${i}`).join("\n")}\n`,
    );
    const config = configSchema.parse({
      runs: [{ name: "exp001", ssh: "local", workdir, log: "train log.txt" }],
    });
    const tail = transportLogTail(
      config.runs,
      remotesOver(() => new LocalTransport(), systemClock),
    );
    expect(await tail.tail("exp001", 3)).toBe("line 47\nline 48\nline 49\n");
  });

  it("says which file it cannot read, and bounds one huge line", async () => {
    const config = configSchema.parse({
      runs: [{ name: "exp001", ssh: "local", workdir: dir, log: "missing.log" }],
    });
    const tail = transportLogTail(
      config.runs,
      remotesOver(() => new LocalTransport(), systemClock),
    );
    await expect(tail.tail("exp001", 5)).rejects.toThrow(`cannot read ${dir}/missing.log`);
    writeFileSync(join(dir, "missing.log"), "x".repeat(200_000));
    expect((await tail.tail("exp001", 5)).length).toBe(64 * 1024);
    await expect(tail.tail("exp009", 5)).rejects.toThrow("no run named 'exp009'");
  });
});
