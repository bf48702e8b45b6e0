import { describe, expect, it } from "vitest";
import { parseCommandText } from "../../src/bot/core/parse-command-text.ts";
import {
  CONSOLE,
  DISCORD_VIEWER,
  planSample,
  RecordingResponder,
  req,
  textOf,
  useBotFixture,
} from "./bot-fixture.ts";

const f = useBotFixture();
const responder = new RecordingResponder();

describe("/train status", () => {
  it("says what to do when the store has no samples yet", async () => {
    const m = await f.core.execute(req("status", { run: "exp001" }), responder);
    expect(m.lines).toEqual([
      "No samples yet for exp001: the first poll runs within 30 s. Check with `trainops poll --once`.",
    ]);
  });

  it("names the runs when the run is unknown or missing", async () => {
    const unknown = await f.core.execute(req("status", { run: "exp01" }), responder);
    expect(unknown.ephemeral).toBe(true);
    expect(unknown.lines).toEqual(["No run named 'exp01'. Runs: exp001, exp002."]);
    const missing = await f.core.execute(req("status"), responder);
    expect(textOf(missing)).toContain("Name the run: `/train status <run>`. Runs: exp001, exp002.");
  });

  it("shows progress, speed, ETA, memory, config, phase criteria, last error, alerts and a chart", async () => {
    const now = f.clock.now();
    for (let i = 60; i >= 0; i--) f.samples.insert(planSample("exp001", now - i * 60_000));
    f.events.insert("exp001", now - 2 * 3_600_000, {
      kind: "cuda_oom",
      line: "torch.OutOfMemoryError: CUDA out of memory. token=hf_abcdefghijklmnopqrstuvwxyz",
      lineNumber: 1,
      source: "log",
    });
    f.alerts.firing = [
      {
        rule: "gpu_idle",
        severity: "warning",
        summary: "GPU 0% for 45 min",
        since: now - 45 * 60_000,
      },
    ];
    f.alerts.silence({
      run: "exp001",
      rule: "memory_high",
      durationMs: 3_600_000,
      reason: "known",
      createdBy: "alice",
    });
    const m = await f.core.execute(req("status", { run: "exp001" }, DISCORD_VIEWER), responder);
    const text = textOf(m);
    expect(m.title).toBe("exp001: step 549/128,000, epoch 1/32");
    expect(m.progress?.map((p) => p.caption)).toEqual(["549/4,000 (13.7%)", "549/128,000 (0.4%)"]);
    expect(text).toContain("183 steps/h, 19.7 s/step");
    // 4000 steps × 19.7 s ≈ 21.9 h per epoch; 128,000 steps ≈ 29.2 days.
    expect(text).toContain("per epoch)");
    expect(text).toMatch(/Epoch ETA: 18 h \d+ min \(~21\.9 h per epoch\)/);
    expect(text).toMatch(/Total ETA: 29 d \d+ h \(~29\.2 days for 32 epochs\)/);
    expect(text).toContain("VRAM: GPU0 77.4/80 GiB ✓");
    expect(text).toContain("GPU util: GPU0 0%");
    expect(text).toContain("Host RAM: 40.0/100 GiB ✓, 1 worker RSS 7.0 GiB");
    expect(text).toContain("Config: workers 1, batch 1");
    expect(text).toContain(
      "Phase 1: Test 2 workers, evaluating\n143/200 steps\nVRAM peak 77.4/80 GiB ✓\nstep time 9.6 s vs 18.1 s ✓",
    );
    expect(text).toContain(
      "Last error: CUDA out of memory 2 h ago: torch.OutOfMemoryError: CUDA out of memory. token=[redacted]",
    );
    expect(text).toContain("🟠 idle GPU: GPU 0% for 45 min (firing 45 min)");
    expect(text).toContain("🔇 high memory muted for 1 h by alice: known");
    expect(m.severity).toBe("warning");
    expect(m.images?.[0]?.name).toBe("exp001-status.png");
    expect(m.images?.[0]?.png.subarray(1, 4).toString()).toBe("PNG");
    // The run has one hour of samples: the chart spans that hour, not a day of empty axis.
    expect(m.images?.[0]?.alt).toMatch(/last 6\d min|last 1(\.1)? h/);
  });

  it("flags an unreachable VM and a dead process", async () => {
    const now = f.clock.now();
    f.samples.insert(planSample("exp001", now - 120_000));
    f.samples.insert(
      planSample("exp001", now - 30_000, { reachable: false, gpus: [], step: null }),
    );
    const m = await f.core.execute(req("status", { run: "exp001" }), responder);
    expect(m.lines?.[0]).toBe(
      "VM unreachable at the last poll (30 s ago); figures below are from 2 min ago.",
    );
    expect(textOf(m)).toContain("GPU0 77.4/80 GiB");
    f.samples.insert(planSample("exp001", now, { alive: false }));
    const dead = await f.core.execute(req("status", { run: "exp001" }), responder);
    expect(dead.severity).toBe("critical");
    expect(dead.lines?.[0]).toContain("Training process is not running");
  });

  it("answers without the plan when the operations side hangs", async () => {
    f.reopen({ planTimeoutMs: 50 });
    f.ops.plan = () => new Promise(() => {});
    f.samples.insert(planSample("exp001", f.clock.now()));
    const m = await f.core.execute(req("status", { run: "exp001" }), responder);
    expect(textOf(m)).toContain("plan unavailable: no answer within 50 ms");
  });
});

describe("read commands", () => {
  it("/train plan shows the results table", async () => {
    const m = await f.core.execute(req("plan", { run: "exp001" }), responder);
    expect(m.table?.columns).toEqual([
      "Phase",
      "Risk",
      "Workers",
      "Batch",
      "Step time",
      "Epoch",
      "Total",
      "Speedup",
      "State",
    ]);
    expect(m.table?.rows[0]).toEqual([
      "0 baseline",
      "-",
      "1",
      "1",
      "18.1 s",
      "20.1 h",
      "26.8 days",
      "1.0x",
      "passed",
    ]);
    expect(m.table?.rows[1]?.[7]).toBe("1.9x");
    expect(m.lines?.[0]).toBe("Now: Phase 1: Test 2 workers (evaluating).");
    // Step time and throughput per phase as bars, against the baseline.
    const chart = m.images?.[0];
    expect(chart?.name).toBe("exp001-plan.png");
    expect(chart?.png.subarray(1, 4).toString()).toBe("PNG");
    expect(chart?.alt).toContain("Base 18.1 s/step, 0.06 samples/s");
    expect(chart?.alt).toContain("P1 9.6 s/step, 0.1 samples/s");
  });

  it("/train plan has no chart until a phase is measured, or when charts are off", async () => {
    const unmeasured = f.ops.plan.bind(f.ops);
    f.ops.plan = async (run) => {
      const view = await unmeasured(run);
      return { ...view, phases: view.phases.map((p) => ({ ...p, stepTimeSeconds: null })) };
    };
    const m = await f.core.execute(req("plan", { run: "exp001" }), responder);
    expect(m.table?.rows.length).toBeGreaterThan(0);
    expect(m.images).toBeUndefined();
    f.reopen({ charts: undefined });
    const off = await f.core.execute(req("plan", { run: "exp001" }), responder);
    expect(off.table?.rows.length).toBeGreaterThan(0);
    expect(off.images).toBeUndefined();
  });

  it("with a price, status shows the cost so far and to finish, and the plan a cost to finish per phase", async () => {
    const config = {
      ...f.config,
      runs: f.config.runs.map((r) => ({ ...r, cost: { perHour: 32.77, currency: "USD" } })),
    };
    f.reopen({ config });
    const now = f.clock.now();
    // Ten hours watched; step 549 of 128,000 at 19.7 s a step.
    f.samples.insert(planSample("exp001", now - 10 * 3_600_000));
    f.samples.insert(planSample("exp001", now));
    const status = await f.core.execute(req("status", { run: "exp001" }), responder);
    // 127,451 steps × 19.7 s = 697.4 h; × $32.77 = $22,855.
    expect(textOf(status)).toContain("Cost: $328 so far (10.0 h), $22,855 to finish at $32.77/h");
    const plan = await f.core.execute(req("plan", { run: "exp001" }), responder);
    const columns = plan.table?.columns ?? [];
    expect(columns.slice(6, 8)).toEqual(["Total", "Cost to finish"]);
    // The baseline's 18.1 s a step: 127,451 × 18.1 s = 640.8 h → $20,999.
    expect(plan.table?.rows[0]?.[7]).toBe("$20,999");
  });

  it("/train logs redacts secrets and bounds the size", async () => {
    f.logText.value = [
      "Train step 10/4000 loss 0.5",
      "export GITHUB_TOKEN=ghp_abcdefghijklmnopqrstuvwxyz0123456789",
      "slack xoxb-1234567890-abcdefghij",
      "hf_abcdefghijklmnopqrstuvwxyz12 sk-abcdefghijklmnopqrstuv AKIAABCDEFGHIJKLMNOP",
      "Authorization: Bearer abc.def.ghijklmnop",
      "db password=hunter22 ok",
      "discord MTIzNDU2Nzg5MDEyMzQ1Njc4.GaBcDe.abcdefghijklmnopqrstuvwxyz0123",
    ].join("\n");
    const m = await f.core.execute(req("logs", { run: "exp001", lines: "20" }), responder);
    expect(m.code).toContain("Train step 10/4000");
    for (const secret of [
      "ghp_abc",
      "xoxb-123",
      "hf_abc",
      "sk-abc",
      "AKIAABC",
      "abc.def.ghij",
      "hunter22",
      "MTIzNDU2",
    ]) {
      expect(m.code).not.toContain(secret);
    }
    expect(m.code).toContain("password=[redacted]");
    expect(m.code).toContain("Bearer [redacted]");
    f.logText.value = Array.from({ length: 200 }, (_, i) => `line ${i} ${"x".repeat(40)}`).join(
      "\n",
    );
    const long = await f.core.execute(req("logs", { run: "exp001", lines: "200" }), responder);
    expect(long.code?.length).toBeLessThanOrEqual(1800);
    expect(long.code).toContain("line 199");
    expect(long.lines?.[0]).toMatch(/^\d+ older lines cut to fit/);
  });

  it("/train logs validates lines", async () => {
    const m = await f.core.execute(req("logs", { run: "exp001", lines: "lots" }), responder);
    expect(m.lines).toEqual([
      "lines must be an integer from 1 to 200; got 'lots'; usage: /train logs [run] [lines:<1-200>]",
    ]);
  });

  it("/train errors lists recent events", async () => {
    const empty = await f.core.execute(req("errors", { run: "exp002" }), responder);
    expect(empty.title).toBe("exp002: no errors recorded");
    f.events.insert("exp002", f.clock.now(), {
      kind: "host_oom_kill",
      line: "Out of memory: Killed process 4242 (pt_data_worker)",
      lineNumber: null,
      source: "kernel",
    });
    const m = await f.core.execute(req("errors", { run: "exp002" }), responder);
    expect(m.severity).toBe("critical");
    expect(m.table?.rows[0]?.slice(1)).toEqual([
      "killed by the host's OOM killer",
      "kernel",
      "Out of memory: Killed process 4242 (pt_data_worker)",
    ]);
  });

  it("/train chart validates metric and window and returns a PNG", async () => {
    f.samples.insert(planSample("exp001", f.clock.now() - 60_000));
    const bad = await f.core.execute(
      req("chart", { run: "exp001", metric: "temperature" }),
      responder,
    );
    const chartUsage =
      "usage: /train chart [run] [metric:<step_time|vram|host_ram|gpu_util|throughput|loss>] [window:<window>]";
    expect(bad.lines).toEqual([
      `metric must be one of step_time, vram, host_ram, gpu_util, throughput, loss; ${chartUsage}`,
    ]);
    const badWindow = await f.core.execute(
      req("chart", { run: "exp001", window: "soon" }),
      responder,
    );
    expect(badWindow.lines).toEqual([
      `window must be a duration like 6h, 2d or 30m; got 'soon'; ${chartUsage}`,
    ]);
    const m = await f.core.execute(
      req("chart", { run: "exp001", metric: "vram", window: "2h" }),
      responder,
    );
    // One minute of data in a 2 h window: the title, the picture's heading and the alt text
    // all name the span shown, and say what was asked.
    expect(m.title).toBe("exp001: vram, last 1 min (all the data there is; 2.0 h asked)");
    expect(m.images?.[0]?.alt.startsWith(m.title)).toBe(true);
    expect(m.lines?.[0]?.startsWith(m.title)).toBe(true);
    expect(m.images?.[0]?.name).toBe("exp001-vram.png");
    f.samples.insert(planSample("exp001", f.clock.now() - 5 * 3_600_000));
    const full = await f.core.execute(req("chart", { run: "exp001", window: "2h" }), responder);
    expect(full.title).toBe("exp001: overview, last 2.0 h");
  });

  it("/train chart foo says foo is neither a run nor a metric", async () => {
    const parsed = parseCommandText("chart foo", ["exp001", "exp002"]);
    const m = await f.core.execute(
      { subcommand: parsed.subcommand, args: parsed.args, invoker: CONSOLE },
      responder,
    );
    expect(m.severity).toBe("warning");
    expect(m.lines).toEqual([
      "'foo' is neither a run nor a chart metric. Metrics: step_time, vram, host_ram, gpu_util, throughput, loss; runs: exp001, exp002. usage: /train chart [run] [metric:<step_time|vram|host_ram|gpu_util|throughput|loss>] [window:<window>].",
    ]);
  });

  it("/train help lists every command and autocomplete offers runs", async () => {
    const m = await f.core.execute(req("help"), responder);
    expect(m.fields?.map((x) => x.name)).toContain(
      "* /train set [run] [workers:<1-64>] [batch:<1-4096>]",
    );
    expect(m.fields).toHaveLength(f.core.subcommands.length);
    expect(f.core.autocomplete("run", "exp")).toEqual(["exp001", "exp002"]);
    expect(f.core.autocomplete("run", "02")).toEqual(["exp002"]);
    expect(f.core.autocomplete("metric", "")).toEqual([]);
  });

  it("an unknown subcommand says what exists", async () => {
    const m = await f.core.execute(req("stats"), responder);
    expect(m.ephemeral).toBe(true);
    expect(m.lines?.[0]).toContain("'/train stats' is not a command. Try: status,");
  });
});
