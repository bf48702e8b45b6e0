import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openDatabase } from "../../src/store/database.ts";
import { SamplesRepo } from "../../src/store/samples-repo.ts";
import { spawnTrainops } from "../harness/cli.ts";
import { waitUntil } from "../harness/wait.ts";
import {
  consoleOver,
  planSample,
  type StreamConsole,
  TRAIN_YAML,
  useBotFixture,
} from "./bot-fixture.ts";

let dir: string;
let configPath: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "trainops-console-"));
  mkdirSync(join(dir, "work"));
  writeFileSync(join(dir, "work", "train.yaml"), TRAIN_YAML);
  writeFileSync(
    join(dir, "work", "train.log"),
    "Train step 1/4000\nexport HF_TOKEN=hf_abcdefghijklmnopqrstuvwxyz\n",
  );
  configPath = join(dir, "trainops.yaml");
  writeFileSync(
    configPath,
    [
      `store: ${join(dir, "store.db")}`,
      "runs:",
      "  - name: exp001",
      "    ssh: local",
      `    workdir: ${join(dir, "work")}`,
      "    log: train.log",
      "    trainConfig: train.yaml",
      "    steps: { perEpoch: 4000, epochs: 32 }",
      "    limits: { gpuMemoryGiB: 80, hostMemoryGiB: 100 }",
      "",
    ].join("\n"),
  );
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** `trainops ...args` in the test's directory, stdin left open for piped commands. */
const trainops = (args: string[]) => spawnTrainops(args, { cwd: dir, keepStdinOpen: true });

function waitFor(output: () => string, pattern: RegExp): Promise<RegExpMatchArray> {
  return waitUntil(() => output().match(pattern), {
    timeoutMs: 20_000,
    intervalMs: 50,
    what: `${pattern} in:\n${output()}`,
  });
}

describe("trainops console", () => {
  it("runs piped /train commands, saves charts, turns buttons into a prompt, and audits", async () => {
    const db = openDatabase(join(dir, "store.db"));
    const now = Date.now();
    const samples = new SamplesRepo(db);
    samples.insertMany(
      Array.from({ length: 30 }, (_, i) => planSample("exp001", now - (30 - i) * 60_000)),
    );
    db.close();

    const run = trainops(["console", "--config", configPath, "--chart-dir", join(dir, "charts")]);
    run.child.stdin.write("/train status\n/train logs lines=5\n/train set workers=2\n");
    const [, id] = await waitFor(run.output, /Type 'confirm (\w+)' or 'cancel \1'/);
    run.child.stdin.write(`cancel ${id}\n/train set workers:four\n`);
    run.child.stdin.end();
    expect(await run.exited).toBe(0);
    const out = run.output();
    expect(out).toContain("exp001: step 549/128,000, epoch 1/32");
    expect(out).toContain("Epoch 1  ");
    expect(out).toContain("549/4,000 (13.7%)");
    const chart = out.match(/\[chart\] (\S+\.png)/)?.[1] as string;
    expect(existsSync(chart)).toBe(true);
    expect(readFileSync(chart).subarray(1, 4).toString()).toBe("PNG");
    expect(out).toContain("export HF_TOKEN=[redacted]");
    expect(out).toContain("Confirm: Set workers 2");
    expect(out).toContain("Cancelled by");
    expect(out).toContain("workers must be an integer from 1 to 64; got 'four'");
    expect(readFileSync(join(dir, "work", "train.yaml"), "utf8")).toBe(TRAIN_YAML);

    const audit = trainops(["audit", "--config", configPath, "--json"]);
    expect(await audit.exited).toBe(0);
    const { entries } = JSON.parse(audit.output()) as {
      entries: Array<{ command: string; outcome: string; platform: string }>;
    };
    expect(entries.map((e) => `${e.platform}:${e.command}:${e.outcome}`)).toEqual([
      "console:set:invalid",
      "console:set:cancelled",
      "console:set:requested",
    ]);
    const table = trainops(["audit", "--config", configPath, "--run", "exp001"]);
    expect(await table.exited).toBe(0);
    expect(table.output()).toMatch(
      /^When \(UTC\)\s+Who\s+Channel\s+Run\s+Command\s+Arguments\s+Outcome\s+Detail\n/,
    );
    expect(table.output()).toContain("workers=four");
  }, 60_000);
});

describe("ConsoleSession over streams", () => {
  const f = useBotFixture({}, ["exp001"]);

  /** Feeds `script` to a session over streams; resolves with what it printed once it ended. */
  async function runSession(script: string): Promise<StreamConsole> {
    const terminal = consoleOver(f);
    terminal.input.end(script);
    await terminal.finished;
    return terminal;
  }

  it("confirms through the prompt, prints follow-ups, and ends after pending work", async () => {
    const { session, text } = await runSession(
      "# a comment\n\n/train set exp001 workers=3 batch=2\nconfirm c1\nconfirm c1\n",
    );
    expect(text()).toContain("Confirm: Set workers 3, batch 2");
    expect(text()).toContain("Applying: Set workers 3, batch 2");
    expect(text()).toContain("Already confirmed");
    expect(text()).toContain("✅ Done: Set workers 3, batch 2");
    expect(f.ops.applied).toHaveLength(1);
    await session.show({ title: "GPU idle", severity: "warning", lines: ["alert text"] });
    expect(text()).toContain("⚠️ GPU idle\n  alert text");
  });

  it("takes a bare `confirm` as the newest confirmation, and says when there is none", async () => {
    const { text } = await runSession("confirm\n/train set exp001 workers=3 batch=2\nconfirm\n");
    expect(text()).toContain("error: nothing to confirm");
    expect(text()).toContain("✅ Done: Set workers 3, batch 2");
    expect(f.ops.applied).toHaveLength(1);
  });
});
