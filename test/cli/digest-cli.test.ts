import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase } from "../../src/store/database.ts";
import { SamplesRepo } from "../../src/store/samples-repo.ts";
import { runTrainops, spawnTrainops } from "../harness/cli.ts";
import { runSample } from "../harness/sample-factory.ts";

const HOUR = 3_600_000;

/** The next 1st of a month, 09:00 UTC, after `now`: the channel's monthly digest. */
function nextFirstOfMonth(now: number): number {
  const d = new Date(now);
  const thisMonth = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1, 9);
  return thisMonth > now ? thisMonth : Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1, 9);
}
let dir: string;
let configPath: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "trainops-digest-cli-"));
  mkdirSync(join(dir, "work"));
  configPath = join(dir, "trainops.yaml");
  writeFileSync(
    configPath,
    [
      `store: ${join(dir, "store.db")}`,
      "timezone: UTC",
      "runs:",
      "  - name: exp001",
      "    ssh: local",
      `    workdir: ${join(dir, "work")}`,
      "    log: train.log",
      "    steps: { perEpoch: 4000, epochs: 32 }",
      "    cost: { perHour: 32.77, currency: USD }",
      "  - name: exp002",
      "    ssh: local",
      `    workdir: ${join(dir, "work")}`,
      "    log: train2.log",
      "alerts:",
      "  console: false",
      "  webhooks:",
      '    - { kind: json, url: "http://127.0.0.1:9/hook", digest: { cron: "0 9 1 * *" } }',
      "",
    ].join("\n"),
  );
  // 30 h of exp001 at 200 steps/h, one poll every 10 min up to a minute ago.
  const db = openDatabase(join(dir, "store.db"));
  const samples = new SamplesRepo(db);
  const end = Date.now() - 60_000;
  const points = Array.from({ length: 181 }, (_, i) => end - (180 - i) * 10 * 60_000);
  samples.insertMany(
    points.map((at, i) => runSample({ at, step: 20_000 + Math.round((i * 200) / 6) })),
  );
  db.close();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("trainops digest", () => {
  it("prints every run's progress, speed, ETA and cost over the last 24 h", async () => {
    const out = await runTrainops(["digest", "--config", configPath], { timeoutMs: 60_000 });
    expect(out.stderr).toBe("");
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/^ℹ Digest: last 24\.0 h, to \d{4}-\d\d-\d\d \d\d:\d\d UTC/);
    // The span began 24 h ago, 6 h after the first poll: 20,000 + 6 × 200 = 21,200.
    expect(out.stdout).toContain("exp001: Steps: 21,200 → 26,000 of 128,000 (+4,800, 20.3% done)");
    expect(out.stdout).toContain("Speed: 200 steps/h (18 s/step), ETA 21.3 days");
    expect(out.stdout).toMatch(/Cost: \$98\d\.\d\d so far|Cost: \$98\d so far/);
    expect(out.stdout).toContain("exp002: Steps: no poll with a step yet");
    const next = new Date(nextFirstOfMonth(Date.now())).toISOString().slice(0, 10);
    expect(out.stdout).toContain(`Next digest: alerts.webhooks[0] (json) ${next} 09:00 UTC`);
  });

  it("--json gives the figures, --run one run, --since another span", async () => {
    const out = await runTrainops(
      ["digest", "--config", configPath, "--run", "exp001", "--since", "2h", "--json"],
      { timeoutMs: 60_000 },
    );
    expect(out.code).toBe(0);
    const json = JSON.parse(out.stdout) as {
      from: string;
      to: string;
      runs: Array<Record<string, unknown>>;
    };
    expect(Date.parse(json.to) - Date.parse(json.from)).toBe(2 * HOUR);
    expect(json.runs).toHaveLength(1);
    expect(json).toMatchObject({
      schedule: [
        {
          channel: "json-webhook:0",
          next: new Date(nextFirstOfMonth(Date.parse(json.to))).toISOString(),
        },
      ],
    });
    expect(json.runs[0]).toMatchObject({
      run: "exp001",
      steps: { from: 25_600, to: 26_000, gained: 400, total: 128_000 },
      stepsPerHour: 200,
      stepTimeSeconds: 18,
      etaSeconds: (128_000 - 26_000) * 18,
      cost: { perHour: 32.77, currency: "USD" },
    });
  });

  it("refuses a bad --since or an unknown run with the right usage", async () => {
    const since = await runTrainops(["digest", "--config", configPath, "--since", "yesterday"]);
    expect(since.code).toBe(2);
    expect(since.stderr).toMatch(
      /--since <duration>.*'yesterday' is not a duration; use e\.g\. 30s/,
    );
    const run = await runTrainops(["digest", "--config", configPath, "--run", "exp01"]);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/exp01/);
  });

  it("/train digest in the console answers with the same digest", async () => {
    const run = spawnTrainops(["console", "--config", configPath], {
      cwd: dir,
      keepStdinOpen: true,
    });
    run.child.stdin.write("/train digest\n/train digest exp002\n");
    run.child.stdin.end();
    expect(await run.exited).toBe(0);
    const out = run.output();
    const digests = out.split("Digest: last 24.0 h").slice(1);
    expect(digests).toHaveLength(2);
    expect(digests[0]).toContain("exp001: Steps: 21,200 → 26,000 of 128,000");
    expect(digests[0]).toContain("exp002: Steps: no poll with a step yet");
    expect(digests[1]).not.toContain("exp001:");
    expect(digests[1]).toContain("exp002:");
  });
});
