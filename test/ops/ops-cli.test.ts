import { readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { main } from "../../src/cli/main.ts";
import { AuditRepo } from "../../src/store/audit-repo.ts";
import { ChangeLocksRepo } from "../../src/store/change-locks-repo.ts";
import { createOpsFixture, feed, type OpsFixture, TRAINING_YAML } from "./ops-fixture.ts";

/** Runs `trainops …` in-process and captures what it prints. */
async function trainops(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const write = process.stdout.write.bind(process.stdout);
  const writeErr = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((chunk: string) => {
    out += chunk;
    return true;
  }) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string) => {
    err += chunk;
    return true;
  }) as typeof process.stderr.write;
  try {
    const code = await main(argv);
    return { code, out, err };
  } finally {
    process.stdout.write = write;
    process.stderr.write = writeErr;
  }
}

describe("trainops plan / next-phase / set / rollback / restart", () => {
  let fx: OpsFixture;
  let configPath: string;
  afterEach(async () => {
    await fx?.cleanup();
  });

  async function setup() {
    fx = createOpsFixture();
    const run = fx.config.runs[0] as (typeof fx.config.runs)[number];
    configPath = join(fx.dir, "trainops.yaml");
    writeFileSync(
      configPath,
      stringify({
        store: fx.config.store,
        runs: [
          {
            name: run.name,
            ssh: "local",
            workdir: run.workdir,
            log: run.log,
            trainConfig: run.trainConfig,
            process: run.process,
            start: run.start,
            steps: run.steps,
            restart: { interruptTimeout: "3s", terminateTimeout: "3s", confirmTimeout: "6s" },
            plan: resolve("configs/plans/safe-optimization.yaml"),
          },
        ],
      }),
    );
    const last = feed(fx, { step: 500, at: Date.now() - 5000 }, 25);
    await fx.ops.engine.tick("exp", last.at + 1);
    await fx.ops.engine.tick("exp", last.at + 1);
  }

  it("shows the plan with the results table", async () => {
    await setup();
    const { code, out } = await trainops("plan", "--config", configPath);
    expect(code).toBe(0);
    expect(out).toContain("exp: plan safe-optimization");
    expect(out).toContain(
      "now: Phase 0: baseline (the config as found) (passed, waiting for a person)",
    );
    expect(out).toMatch(
      /phase\s+name\s+risk\s+state\s+workers\s+batch\s+step time\s+epoch time\s+total time\s+speedup/,
    );
    expect(out).toMatch(
      /\n\s+0\s+Baseline \(current config\)\s+none\s+passed\s+1\s+1\s+18\.1 s\s+20 h 7 min\s+26 d 19 h\s+1\.0x/,
    );
    expect(out).toMatch(/\n\s+4\s+Increase batch size to 4\s+medium\s+pending\s+4\s+4\s+–/);
    const json = JSON.parse(
      (await trainops("plan", "--run", "exp", "--json", "--config", configPath)).out,
    );
    expect(json.phases).toHaveLength(6);
  });

  it("previews with --dry-run and refuses to apply without a terminal or --yes", async () => {
    await setup();
    const dry = await trainops("next-phase", "--run", "exp", "--dry-run", "--config", configPath);
    expect(dry.code).toBe(0);
    expect(dry.out).toContain("exp: Phase 1: Test 2 workers");
    expect(dry.out).toContain("training.workers: 1 → 2");
    expect(dry.out).toContain("L3 +   workers: 2            # data-loader processes");
    const noTty = await trainops("next-phase", "--run", "exp", "--config", configPath);
    expect(noTty.code).toBe(2);
    expect(noTty.err).toContain("add --yes to apply without a prompt");
    expect(readFileSync(join(fx.dir, "exp.yaml"), "utf8")).toBe(TRAINING_YAML);
  });

  it("marks a change that is in but already failing with ⚠ and the failing line", async () => {
    await setup();
    const res = await trainops("set", "--run", "exp", "batch=8", "--yes", "--config", configPath);
    expect(res.code).toBe(0);
    expect(res.out).toContain(
      "⚠ Set batch 8 applied; training restarted\n  Training started, then failed: torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 4.00 GiB\n",
    );
  });

  it("validates set arguments and applies with --yes; rollback returns to the baseline", async () => {
    await setup();
    const bad = await trainops("set", "--run", "exp", "workers=four", "--config", configPath);
    expect(bad.code).not.toBe(0);
    expect(bad.err).toContain("workers must be an integer; got 'four'");
    const big = await trainops(
      "set",
      "--run",
      "exp",
      "workers=100",
      "--yes",
      "--config",
      configPath,
    );
    expect(big.code).toBe(1);
    expect(big.err).toContain("refused: workers must be an integer from 1 to 64; got '100'");
    const ok = await trainops(
      "set",
      "--run",
      "exp",
      "workers=4",
      "batch=2",
      "--yes",
      "--config",
      configPath,
    );
    expect(ok.err).toBe("");
    expect(ok.code).toBe(0);
    expect(ok.out).toContain("✓ Set workers 4, batch 2 applied; training restarted");
    const yaml = readFileSync(join(fx.dir, "exp.yaml"), "utf8");
    expect(yaml).toContain("  workers: 4            # data-loader processes");
    expect(yaml).toContain("  train_batch_size: 2   # patches per step");
    // A second change while the manual one is being judged is a person's call: rollback.
    const rb = await trainops("rollback", "--run", "exp", "--yes", "--config", configPath);
    expect(rb.code).toBe(0);
    expect(rb.out).toContain("✓ Rolled back exp to Baseline's config; training restarted");
    expect(readFileSync(join(fx.dir, "exp.yaml"), "utf8")).toBe(TRAINING_YAML);
    const again = await trainops("rollback", "--run", "exp", "--yes", "--config", configPath);
    expect(again.code).toBe(1);
    expect(again.err).toContain("already runs Baseline's config");
    const restart = await trainops("restart", "--run", "exp", "--yes", "--config", configPath);
    expect(restart.code).toBe(0);
    expect(restart.out).toContain("Training stopped (SIGINT).");
  }, 60_000);

  it("unlock removes a lock held from another machine, which changes otherwise wait for; audited", async () => {
    await setup();
    const locks = new ChangeLocksRepo(fx.db);
    const held = locks.tryAcquire(
      {
        run: "exp",
        holderId: "cli:bob",
        holderName: "bob (cli)",
        operation: "set",
        acquiredAt: Date.now(),
        expiresAt: Date.now() + 3_600_000,
        process: { host: "another-machine", pid: 4242, start: "boot:1" },
      },
      () => false,
    );
    expect(held.ok).toBe(true);
    // Its holder cannot be checked from here and its lock has not expired: changes wait.
    const refused = await trainops("restart", "--run", "exp", "--yes", "--config", configPath);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/exp is being changed by bob \(cli\) \(set since/);
    const unlock = await trainops("unlock", "--run", "exp", "--config", configPath);
    expect(unlock.code).toBe(0);
    expect(unlock.out).toContain("Removed exp's lock, held by bob (cli) for set since");
    expect(locks.get("exp")).toBeNull();
    const [entry] = new AuditRepo(fx.db).list({ run: "exp", outcomes: ["unlocked"] });
    expect(entry).toMatchObject({ platform: "cli", command: "unlock" });
    const again = await trainops("unlock", "--run", "exp", "--config", configPath);
    expect(again.out).toBe("exp was not locked; nothing to do.\n");
  });
});
