import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { createSimulatedVm, type SimulatedVm } from "../../src/simulator/simulated-vm.ts";
import { WebhookServer } from "../harness/webhook-server.ts";

const BIN = resolve("bin/trainops.js");

interface Daemon {
  child: ChildProcess;
  stderr: () => string;
  stdout: () => string;
  exited: Promise<number | null>;
}

function startDaemon(configPath: string): Daemon {
  const child = spawn(process.execPath, [BIN, "start", "--config", configPath], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let err = "";
  let out = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    err += chunk.toString();
  });
  child.stdout?.on("data", (chunk: Buffer) => {
    out += chunk.toString();
  });
  const exited = new Promise<number | null>((done) => child.on("exit", (code) => done(code)));
  return { child, stderr: () => err, stdout: () => out, exited };
}

async function until(
  predicate: () => boolean,
  timeoutMs = 30_000,
  what = "condition",
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((done) => setTimeout(done, 100));
  }
}

/** The port the daemon logged for /metrics (JSON log lines on a non-terminal stderr). */
function metricsPort(daemon: Daemon): number | null {
  const match = /"port":(\d+)[^\n]*serving \/healthz/.exec(daemon.stderr());
  return match ? Number(match[1]) : null;
}

let root: string;
let vm: SimulatedVm;
let webhook: WebhookServer;
let configPath: string;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "trainops-daemon-"));
  webhook = await WebhookServer.start();
  vm = await createSimulatedVm({ root: join(root, "vm"), timeScale: 200, startupSeconds: 0.5 });
  configPath = join(root, "trainops.yaml");
  writeFileSync(
    configPath,
    stringify({
      store: join(root, "trainops.db"),
      poll: "*/1 * * * * *",
      runs: [
        {
          name: "exp001",
          ssh: "local",
          workdir: vm.workdir,
          log: vm.log,
          trainConfig: vm.trainConfig,
          nvidiaSmi: vm.nvidiaSmiPath,
          steps: { perEpoch: 4000, epochs: 32 },
          limits: { gpuMemoryGiB: 80, hostMemoryGiB: 100 },
        },
      ],
      alerts: {
        console: false,
        groupWindow: "1s",
        webhooks: [{ kind: "slack", url: `${webhook.url}/hook` }],
      },
      http: { port: 0 },
    }),
  );
  await vm.start();
});

afterAll(async () => {
  await vm?.stop();
  await webhook?.close();
  rmSync(root, { recursive: true, force: true });
});

describe("trainops start", () => {
  it("serves metrics after a poll, refuses a second instance, and stops cleanly on SIGTERM", async () => {
    const daemon = startDaemon(configPath);
    try {
      await until(() => metricsPort(daemon) !== null, 30_000, "the metrics endpoint");
      const port = metricsPort(daemon) as number;
      const health = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect(health.status).toBe(200);
      let text = "";
      await (async () => {
        const deadline = Date.now() + 30_000;
        while (Date.now() < deadline) {
          text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
          if (/trainops_step\{run="exp001"\} \d+/.test(text)) return;
          await new Promise((done) => setTimeout(done, 300));
        }
      })();
      expect(text).toMatch(/trainops_step\{run="exp001"\} \d+/);
      for (const series of [
        'trainops_total_steps{run="exp001"} 128000',
        'trainops_gpu_memory_total_bytes{run="exp001",gpu="0"}',
        'trainops_workers{run="exp001"} 1',
        'trainops_alive{run="exp001"} 1',
        'trainops_reachable{run="exp001"} 1',
        'trainops_alerts_firing{run="exp001"} 0',
      ]) {
        expect(text).toContain(series);
      }

      const second = spawnSync(process.execPath, [BIN, "start", "--config", configPath], {
        encoding: "utf8",
        timeout: 30_000,
      });
      expect(second.status).toBe(1);
      expect(second.stderr).toMatch(/another trainops \(pid \d+\) is already running/);

      daemon.child.kill("SIGTERM");
      expect(await daemon.exited).toBe(0);
      expect(existsSync(join(root, "trainops.db.lock"))).toBe(false);
    } finally {
      daemon.child.kill("SIGKILL");
    }
  }, 120_000);

  it("keeps an alert in the outbox across a SIGTERM while the webhook is down, then sends it once", async () => {
    webhook.script(...Array.from({ length: 200 }, () => ({ status: 503 as const })));
    const first = startDaemon(configPath);
    try {
      await until(() => metricsPort(first) !== null, 30_000, "the daemon to start");
      // The training process dies mid-run: a crash alert is raised and cannot be delivered.
      vm.setExtraArgs([]);
      await vm.stop(0);
      await until(() => webhook.received.length > 0, 60_000, "a delivery attempt");
      first.child.kill("SIGTERM");
      expect(await first.exited).toBe(0);
    } finally {
      first.child.kill("SIGKILL");
    }
    expect(webhook.acceptedTotal()).toBe(0);
    webhook.script(); // recovered: the default answer is 200 from here on
    (webhook as unknown as { queue: unknown[] }).queue.length = 0;
    const second = startDaemon(configPath);
    try {
      await webhook.waitFor(() => webhook.acceptedTotal() >= 1, 60_000);
      await new Promise((done) => setTimeout(done, 3000));
      expect([...webhook.accepted.values()].every((n) => n === 1)).toBe(true);
      const texts = webhook.received
        .filter((r) => r.outcome === 200)
        .map((r) => JSON.stringify(r.body));
      expect(texts.join("\n")).toMatch(/exp001/);
    } finally {
      second.child.kill("SIGTERM");
      await second.exited;
    }
  }, 180_000);
});
