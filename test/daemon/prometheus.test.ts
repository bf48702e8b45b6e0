import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { spawnTrainops, type TrainopsProcess } from "../harness/cli.ts";
import { startDaemonFixture } from "../harness/daemon-fixture.ts";
import type { OpsProcess } from "../harness/ops-process.ts";
import { instantQuery, PROMTOOL_BINARY, startPrometheus } from "../harness/prometheus.ts";
import type { SimulatedRun } from "../harness/simulated-run.ts";
import { waitUntil } from "../harness/wait.ts";
import type { WebhookServer } from "../harness/webhook-server.ts";

const RULES = resolve("configs/prometheus/trainops-rules.yaml");
const DASHBOARD = resolve("configs/grafana-dashboard.json");

interface Dashboard {
  panels: Array<{ title: string; type: string; targets?: Array<{ expr: string }> }>;
}

/** The dashboard's queries as Grafana sends them for run exp001. */
function dashboardQueries(): Array<{ panel: string; expr: string }> {
  const dashboard = JSON.parse(readFileSync(DASHBOARD, "utf8")) as Dashboard;
  return dashboard.panels.flatMap((p) =>
    (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr.replaceAll("$run", "exp001") })),
  );
}

function metricPort(daemon: TrainopsProcess): number | null {
  const match = /"port":(\d+)[^\n]*serving \/healthz/.exec(daemon.stderr());
  return match ? Number(match[1]) : null;
}

let sim: SimulatedRun;
let receiver: WebhookServer;
let daemon: TrainopsProcess;
let prometheus: OpsProcess;

beforeAll(async () => {
  let configPath: string;
  ({
    sim,
    webhook: receiver,
    configPath,
  } = await startDaemonFixture({
    prefix: "trainops-prometheus-",
    vm: { timeScale: 200, startupSeconds: 0.5 },
    run: (run) => run.runEntry({ plan: resolve("configs/plans/safe-optimization.yaml") }),
    webhookKind: "json",
  }));
  daemon = spawnTrainops(["start", "--config", configPath]);
  await waitUntil(() => metricPort(daemon) !== null, { what: "the metrics endpoint" });
  prometheus = await startPrometheus(`127.0.0.1:${metricPort(daemon)}`, [RULES]);
}, 120_000);

afterAll(async () => {
  await prometheus?.stop();
  if (daemon) {
    daemon.child.kill("SIGTERM");
    await daemon.exited;
  }
  await sim?.stop();
  await receiver?.close();
});

describe("Prometheus scraping the daemon (real prometheus)", () => {
  it("every query of the shipped dashboard returns data for a simulated run", async () => {
    const queries = dashboardQueries();
    expect(queries.length).toBeGreaterThan(20);
    let empty: string[] = [];
    await waitUntil(
      async () => {
        empty = [];
        for (const { panel, expr } of queries) {
          const answer = await instantQuery(prometheus, expr);
          expect(answer.status, `${panel}: ${expr}: ${answer.error}`).toBe("success");
          if (answer.result.length === 0) empty.push(`${panel}: ${expr}`);
        }
        return empty.length === 0;
      },
      { timeoutMs: 90_000, intervalMs: 1000, what: "data for every panel" },
    ).catch((error: Error) => {
      throw new Error(`${error.message}; still empty:\n  ${empty.join("\n  ")}`);
    });
    // The GPU series carry the DCGM exporter's join labels.
    const gpu = await instantQuery(prometheus, 'trainops_gpu_utilization_ratio{run="exp001"}');
    expect(gpu.result[0]?.metric).toMatchObject({
      gpu: "0",
      UUID: expect.stringMatching(/^GPU-/),
      Hostname: "127.0.0.1",
    });
    const speed = await instantQuery(prometheus, 'trainops_steps_per_second{run="exp001"}');
    expect(Number(speed.result[0]?.value[1])).toBeGreaterThan(0);
  }, 120_000);

  it("the example alerting rules pass promtool, load, evaluate cleanly and query series that exist", async () => {
    const check = await promisify(execFile)(PROMTOOL_BINARY, ["check", "rules", RULES]);
    expect(check.stdout).toMatch(/SUCCESS: \d+ rules found/);
    const file = parse(readFileSync(RULES, "utf8")) as {
      groups: Array<{ rules: Array<{ alert: string; expr: string }> }>;
    };
    const rules = file.groups.flatMap((g) => g.rules);
    type Loaded = { name: string; health: string; lastError?: string };
    let loaded: Loaded[] = [];
    await waitUntil(
      async () => {
        const body = (await (await fetch(`${prometheus.url}/api/v1/rules`)).json()) as {
          data: { groups: Array<{ rules: Loaded[] }> };
        };
        loaded = body.data.groups.flatMap((g) => g.rules);
        return loaded.length === rules.length && loaded.every((r) => r.health !== "unknown");
      },
      { timeoutMs: 30_000, what: "the rules to be evaluated" },
    );
    for (const rule of loaded) expect(rule, rule.name).toMatchObject({ health: "ok" });
    // Each rule reads metrics that the daemon exports (a typo would never fire, silently).
    for (const rule of rules) {
      for (const name of new Set(rule.expr.match(/trainops_[a-z_]+/g) ?? [])) {
        const answer = await instantQuery(prometheus, `count(${name})`);
        expect(answer.result.length, `${rule.alert}: ${name}`).toBe(1);
      }
    }
  }, 60_000);

  it("an unreachable run drops its sample gauges and reports trainops_run_up 0", async () => {
    await sim.sshd.kill();
    await waitUntil(
      async () => {
        const up = await instantQuery(prometheus, 'trainops_run_up{run="exp001"}');
        return up.result[0]?.value[1] === "0";
      },
      { timeoutMs: 60_000, intervalMs: 500, what: "trainops_run_up 0" },
    );
    const step = await instantQuery(prometheus, 'trainops_step{run="exp001"}');
    expect(step.result).toEqual([]);
    const errors = await instantQuery(prometheus, 'sum(trainops_poll_errors_total{run="exp001"})');
    expect(Number(errors.result[0]?.value[1])).toBeGreaterThan(0);
  }, 90_000);
});
