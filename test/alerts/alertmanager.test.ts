import { hostname } from "node:os";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/load-config.ts";
import { createConfiguredSinks } from "../../src/runtime/create-sinks.ts";
import { startAlertmanager } from "../harness/alertmanager.ts";
import type { OpsProcess } from "../harness/ops-process.ts";
import { waitUntil } from "../harness/wait.ts";
import { WebhookServer } from "../harness/webhook-server.ts";
import { type AlertHarness, alertHarness, MIN } from "./alert-fixture.ts";
import { idleFor } from "./channel-fixture.ts";

interface AmAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  status: { state: string };
}

interface AmNotification {
  status: "firing" | "resolved";
  alerts: Array<{ status: string; labels: Record<string, string>; endsAt: string }>;
}

let am: OpsProcess;
let receiver: WebhookServer;
let h: AlertHarness | undefined;

beforeEach(async () => {
  receiver = await WebhookServer.start();
  am = await startAlertmanager(`${receiver.url}/am`);
});
afterEach(async () => {
  h?.close();
  h = undefined;
  await am?.stop();
  await receiver.close();
});

async function amAlerts(): Promise<AmAlert[]> {
  const response = await fetch(`${am.url}/api/v2/alerts`);
  expect(response.status).toBe(200);
  return (await response.json()) as AmAlert[];
}

function notifications(): AmNotification[] {
  return receiver.received.filter((r) => r.path === "/am").map((r) => r.body as AmNotification);
}

describe("Alertmanager (real prometheus-alertmanager)", () => {
  it("gets the alert with its labels, then its resolution with endsAt, and pages both", async () => {
    const config = parseConfig(`
runs:
  - { name: exp001, ssh: local, workdir: /tmp/w, log: train.log }
alerts:
  console: false
  rules:
    gpu_idle: { for: 2m, repeatInterval: 30m }
  webhooks:
    - { kind: alertmanager, url: "${am.url}" }
`);
    // Alertmanager judges endsAt by its own clock: the test's clock starts in the recent past.
    h = alertHarness({
      config,
      sinks: createConfiguredSinks(config),
      startAt: Date.now() - 20 * MIN,
    });
    idleFor(h, 3, 0);
    expect(await h.alerting.deliverDue()).toBe(1);

    const firing = await amAlerts();
    expect(firing).toHaveLength(1);
    expect(firing[0]?.labels).toEqual({
      alertname: "gpu_idle",
      run: "exp001",
      severity: "warning",
      node: hostname(),
    });
    expect(firing[0]?.status.state).toBe("active");
    expect(firing[0]?.annotations.summary).toMatch(/^exp001: GPU idle/);
    await waitUntil(() => notifications().some((n) => n.status === "firing"), {
      what: "Alertmanager's firing notification",
    });

    // The first busy sample's evaluation resolves it.
    const resolvedAt = h.clock.now();
    idleFor(h, 2, 90);
    expect(await h.alerting.deliverDue()).toBe(1);
    // Resolved alerts leave the active list and are paged as resolved with their endsAt.
    expect(await amAlerts()).toEqual([]);
    await waitUntil(() => notifications().some((n) => n.status === "resolved"), {
      what: "Alertmanager's resolved notification",
    });
    const resolved = notifications().find((n) => n.status === "resolved");
    expect(resolved?.alerts[0]?.labels.alertname).toBe("gpu_idle");
    expect(Date.parse(resolved?.alerts[0]?.endsAt ?? "")).toBe(resolvedAt);
  });

  it("an Alertmanager that is down gets the alert once it is back", async () => {
    const config = parseConfig(`
runs:
  - { name: exp001, ssh: local, workdir: /tmp/w, log: train.log }
alerts:
  console: false
  rules:
    gpu_idle: { for: 2m }
  webhooks:
    - { kind: alertmanager, url: "http://127.0.0.1:${am.port}" }
`);
    const port = am.port;
    await am.stop();
    h = alertHarness({
      config,
      sinks: createConfiguredSinks(config),
      startAt: Date.now() - 20 * MIN,
    });
    idleFor(h, 3, 0);
    expect(await h.alerting.deliverDue()).toBe(0);
    expect(h.alerting.backlog()).toBe(1);
    am = await startAlertmanager(`${receiver.url}/am`, port);
    h.clock.advance(1_000);
    expect(await h.alerting.deliverDue()).toBe(1);
    expect((await amAlerts()).map((a) => a.labels.alertname)).toEqual(["gpu_idle"]);
  });
});
