import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ConfigError } from "../../src/config/config-error.ts";
import { configSchema } from "../../src/config/schema.ts";
import { ManualClock } from "../../src/core/clock.ts";
import { openProduct, type Product } from "../../src/runtime/product.ts";
import { waitUntil } from "../harness/wait.ts";
import { MemorySink, T0 } from "./alert-fixture.ts";

let dir: string;
let product: Product | null = null;
afterEach(async () => {
  await product?.close();
  product = null;
  rmSync(dir, { recursive: true, force: true });
});

const PATTERNS = [
  {
    name: "checkpoint_failed",
    regex: "failed to save checkpoint (?<file>\\S+): (.+)$",
    severity: "critical",
    message: "checkpoint {file} not saved: {2}",
  },
  {
    name: "grad_overflow",
    regex: "gradient overflow",
    ignoreCase: true,
    label: "gradient overflow",
    count: 3,
    window: "10m",
    message: "gradient overflow {count} times",
  },
];

/**
 * The product as the daemon opens it, over a run on this machine (`ssh: local`) whose log is a
 * real file in a temp folder; polls read it with the real probe, and alerts go to a sink.
 */
function open(rules: Record<string, unknown>) {
  dir = mkdtempSync(join(tmpdir(), "trainops-patterns-"));
  writeFileSync(join(dir, "train.log"), "");
  const config = configSchema.parse({
    store: join(dir, "trainops.db"),
    runs: [{ name: "exp001", ssh: "local", workdir: dir, log: "train.log", nvidiaSmi: "true" }],
    alerts: { console: false, rules },
  });
  const clock = new ManualClock(T0);
  const sink = new MemorySink();
  product = openProduct({ config, configDir: dir, clock, sinks: [sink] });
  const p = product;
  return {
    clock,
    sink,
    log: (...lines: string[]) =>
      appendFileSync(join(dir, "train.log"), lines.map((l) => `${l}\n`).join("")),
    /** One poll, then the rules, then delivery: what the daemon does each round. */
    async poll() {
      await p.monitoring.monitors.get("exp001")?.pollOnce();
      const report = p.alerting.evaluate("exp001");
      await p.alerting.deliverDue();
      return report;
    },
  };
}

describe("pattern rules", () => {
  it("a matching log line alerts once with its own name, severity and message with the groups", async () => {
    const r = open({ pattern: { patterns: PATTERNS } });
    r.log(
      "Train step 100/128000 (epoch 1/32) - loss: 0.5000 - lr: 1.0e-04 - 0.60 s/step",
      "ERROR failed to save checkpoint /ckpt/step_100.pt: No space left on device",
    );
    const first = await r.poll();
    expect(first.fired).toEqual(["pattern:checkpoint_failed"]);
    expect(r.sink.messages).toHaveLength(1);
    const m = r.sink.messages[0];
    expect(m?.title).toBe(
      "exp001: checkpoint /ckpt/step_100.pt not saved: No space left on device",
    );
    expect(m?.severity).toBe("critical");
    expect(m?.code).toBe(
      "ERROR failed to save checkpoint /ckpt/step_100.pt: No space left on device",
    );
    expect(m?.footer).toContain("checkpoint failed alert");
    expect(m?.footer).not.toContain("pattern:");
    // Each line is seen once: polls that read nothing new add nothing.
    r.clock.advance(30_000);
    expect((await r.poll()).fired).toEqual([]);
    expect(r.sink.messages).toHaveLength(1);
  });

  it("count within window: fires at the third match, case-insensitively, and ends quietly when the window passes", async () => {
    const r = open({ pattern: { patterns: PATTERNS } });
    r.log("Gradient overflow. Skipping step, loss scaler 0 reducing loss scale to 32768.0");
    r.log("gradient overflow. Skipping step, loss scaler 0 reducing loss scale to 16384.0");
    expect((await r.poll()).fired).toEqual([]);
    r.clock.advance(60_000);
    r.log("GRADIENT OVERFLOW. Skipping step, loss scaler 0 reducing loss scale to 8192.0");
    expect((await r.poll()).fired).toEqual(["pattern:grad_overflow"]);
    expect(r.sink.messages.map((m) => m.title)).toEqual(["exp001: gradient overflow 3 times"]);
    expect(r.sink.messages[0]?.severity).toBe("warning");
    expect(r.sink.messages[0]?.lines?.[0]).toContain("3 times in the last 10 min (alert at 3)");
    r.clock.advance(11 * 60_000);
    const later = await r.poll();
    expect(later.resolved).toEqual(["pattern:grad_overflow"]);
    // One-shot alerts end without a "resolved" message.
    expect(r.sink.messages).toHaveLength(1);
  });

  it("`mute pattern` silences every pattern; the rule names stay checked", async () => {
    const r = open({ pattern: { patterns: PATTERNS } });
    product?.alerting.silence({
      rule: "pattern",
      durationMs: 3_600_000,
      reason: "known disk issue",
    });
    r.log("failed to save checkpoint /ckpt/a.pt: No space left on device");
    expect((await r.poll()).fired).toEqual(["pattern:checkpoint_failed"]);
    expect(r.sink.messages).toEqual([]);
    expect(() =>
      product?.alerting.silence({ rule: "pattern:nope", durationMs: 60_000, reason: "x" }),
    ).toThrow(/no rule named 'pattern:nope'/);
  });

  it("between polls the follow stream alerts at once, and the poll after it does not count the line again", async () => {
    const r = open({ pattern: { patterns: PATTERNS } });
    const p = product as Product;
    const monitor = p.monitoring.monitors.get("exp001");
    await r.poll();
    await monitor?.startFollow();
    p.alerting.senderLoop.start();
    try {
      r.log("ERROR failed to save checkpoint /ckpt/b.pt: Input/output error");
      // No poll: the follow stream's read stores the match and runs the rules.
      await waitUntil(() => r.sink.messages.length > 0, {
        timeoutMs: 20_000,
        intervalMs: 50,
        what: "the pattern alert from the follow stream",
      });
      expect(r.sink.messages[0]?.title).toBe(
        "exp001: checkpoint /ckpt/b.pt not saved: Input/output error",
      );
    } finally {
      await p.alerting.senderLoop.stop();
      await monitor?.stopFollow();
    }
    await r.poll();
    const rows = p.db.prepare("SELECT COUNT(*) AS n FROM log_matches").get() as { n: number };
    expect(rows.n).toBe(1);
    expect(r.sink.messages).toHaveLength(1);
  });

  it("no patterns configured: nothing is matched or stored, and nothing alerts", async () => {
    const r = open({});
    r.log("failed to save checkpoint /ckpt/a.pt: No space left on device");
    expect((await r.poll()).fired).toEqual([]);
    const rows = product?.db.prepare("SELECT COUNT(*) AS n FROM log_matches").get() as {
      n: number;
    };
    expect(rows.n).toBe(0);
  });
});

describe("pattern settings", () => {
  const openWith = (patterns: unknown[]) => () => open({ pattern: { patterns } });

  it("a bad regex is a config error naming the key and the fix", () => {
    let error: unknown;
    try {
      openWith([{ name: "broken", regex: "loss=(nan" }])();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(
      /alerts\.rules\.pattern\.patterns\.0\.regex: not a valid regular expression \(.*\); escape special characters/,
    );
  });

  it("a regex that matches every line, a template naming a missing group, a duplicate name are refused", () => {
    expect(openWith([{ name: "all", regex: ".*" }])).toThrow(
      /patterns\.0\.regex: matches an empty line/,
    );
    expect(openWith([{ name: "bad_group", regex: "error (\\d+)", message: "code {2}" }])).toThrow(
      /patterns\.0\.message: \{2\} is not a group of the regex; use \{0\}, \{1\}, \{line\} or \{count\}/,
    );
    expect(
      openWith([
        { name: "twice", regex: "a+b" },
        { name: "twice", regex: "c+d" },
      ]),
    ).toThrow(/patterns\.1\.name: 'twice' is used by another pattern/);
    expect(openWith([{ name: "Bad Name", regex: "x" }])).toThrow(
      /patterns\.0\.name: use lower-case/,
    );
  });
});
