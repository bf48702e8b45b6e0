import { createHmac } from "node:crypto";
import { Writable } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { postableAlert } from "../../src/alerts/sinks/alertmanager-sink.ts";
import { SIGNATURE_HEADER, TIMESTAMP_HEADER } from "../../src/alerts/sinks/json-webhook-sink.ts";
import { parseConfig } from "../../src/config/load-config.ts";
import { createLogger } from "../../src/daemon/logger.ts";
import { createConfiguredSinks } from "../../src/runtime/create-sinks.ts";
import { FakeOpsServices } from "../harness/ops-services.ts";
import { WebhookServer } from "../harness/webhook-server.ts";
import { type AlertHarness, alertHarness, sample, testConfig } from "./alert-fixture.ts";
import { idleFor } from "./channel-fixture.ts";

const SECRETS = {
  PD_KEY: "R0UTINGKEY0123456789abcdefABCDEF",
  GENIE_KEY: "eb243592-faa2-4ba2-a551q-1afdf565c889",
  TG_TOKEN: "123456:AAE-secret-bot-token",
  NTFY_TOKEN: "tk_secretntfytoken",
  HOOK_SECRET: "hmac-shared-secret",
};

let services: FakeOpsServices;
let receiver: WebhookServer;
let h: AlertHarness | undefined;

const OPTIONS = {
  pagerDutyRoutingKey: SECRETS.PD_KEY,
  opsgenieApiKey: SECRETS.GENIE_KEY,
  telegramToken: SECRETS.TG_TOKEN,
  telegramChats: ["-100200300"],
  ntfyTopic: "training-alerts",
  ntfyToken: SECRETS.NTFY_TOKEN,
};

beforeEach(async () => {
  services = await FakeOpsServices.start(OPTIONS);
  receiver = await WebhookServer.start();
});
afterEach(async () => {
  h?.close();
  h = undefined;
  await services.close();
  await receiver.close();
});

/** A config with every HTTP channel, secrets as `${VAR}`, and `gpu_idle` firing after 2 min. */
function yamlFor(extra = ""): string {
  const url = services.url;
  return `
runs:
  - { name: exp001, ssh: local, workdir: /tmp/w, log: train.log }
  - { name: exp002, ssh: local, workdir: /tmp/w2, log: train.log }
alerts:
  console: false
  rules:
    gpu_idle: { for: 2m, repeatInterval: 30m }
  webhooks:
    - { kind: json, url: "${receiver.url}/hooks/trainops", secret: "\${HOOK_SECRET}" }
    - { kind: ntfy, url: "${url}/training-alerts", token: "\${NTFY_TOKEN}" }
    - { kind: telegram, url: "${url}", token: "\${TG_TOKEN}", chatId: -100200300 }
    - { kind: pagerduty, url: "${url}", routingKey: "\${PD_KEY}" }
    - { kind: opsgenie, url: "${url}", apiKey: "\${GENIE_KEY}" }
${extra}`;
}

function harnessFor(yaml: string, env: Record<string, string> = SECRETS): AlertHarness {
  const config = parseConfig(yaml, { env });
  return alertHarness({ config, sinks: createConfiguredSinks(config) });
}

describe("alert channels", () => {
  it("an alert and its resolution reach every channel, keyed so incidents open and close", async () => {
    h = harnessFor(yamlFor());
    idleFor(h, 3, 0);
    expect(await h.alerting.deliverDue()).toBe(5);

    const key = "trainops/gpu_idle|exp001|-";
    expect(services.incidents.get(key)).toMatchObject({
      status: "triggered",
      severity: "warning",
      summary: expect.stringMatching(/^exp001: GPU idle \(0% utilisation\)/),
    });
    expect(services.genieAlerts.get(key)).toMatchObject({ status: "open", priority: "P3" });
    const telegram = services.telegram.get("-100200300") ?? [];
    expect(telegram).toHaveLength(1);
    expect(telegram[0]?.text).toMatch(/^⚠️ exp001: GPU idle/);
    expect(services.ntfy[0]).toMatchObject({ priority: 4, tags: ["warning", "exp001"] });
    expect(services.ntfy[0]?.title).toMatch(/^exp001: GPU idle/);

    const hook = receiver.received[0]!;
    const body = hook.body as Record<string, unknown>;
    expect(body).toMatchObject({
      version: 1,
      run: "exp001",
      severity: "warning",
      alerts: [{ status: "firing", rule: "gpu_idle", run: "exp001", endedAt: null }],
    });
    const expected = createHmac("sha256", SECRETS.HOOK_SECRET)
      .update(`${hook.headers[TIMESTAMP_HEADER]}.${JSON.stringify(body)}`)
      .digest("hex");
    expect(hook.headers[SIGNATURE_HEADER]).toBe(`sha256=${expected}`);

    // GPU busy again: the resolution closes the same incident and alert.
    idleFor(h, 2, 90);
    expect(await h.alerting.deliverDue()).toBe(5);
    expect(services.incidents.get(key)).toMatchObject({ status: "resolved", triggers: 1 });
    expect(services.genieAlerts.get(key)).toMatchObject({ status: "closed", count: 1 });
    expect(services.telegram.get("-100200300")?.[1]?.text).toMatch(/^✅ exp001: idle GPU resolved/);
    expect(services.ntfy[1]).toMatchObject({ priority: 2 });
    expect((receiver.received[1]!.body as { alerts: unknown[] }).alerts).toMatchObject([
      { status: "resolved", severity: "warning", endedAt: expect.any(String) },
    ]);
    // Secrets travel only where each service expects them.
    expect(services.log.find((r) => r.path === "/")?.auth).toBe(`Bearer ${SECRETS.NTFY_TOKEN}`);
    expect(services.log.filter((r) => r.path.startsWith("/v2/alerts")).map((r) => r.auth)).toEqual([
      `GenieKey ${SECRETS.GENIE_KEY}`,
      `GenieKey ${SECRETS.GENIE_KEY}`,
    ]);
    expect(h.alerting.backlog()).toBe(0);
  });

  it("a repeat triggers the same PagerDuty incident and folds into the open Opsgenie alert", async () => {
    h = harnessFor(yamlFor());
    idleFor(h, 3, 0);
    await h.alerting.deliverDue();
    idleFor(h, 31, 0);
    await h.alerting.deliverDue();
    const key = "trainops/gpu_idle|exp001|-";
    expect(services.incidents.size).toBe(1);
    expect(services.incidents.get(key)?.triggers).toBe(2);
    expect(services.genieAlerts.get(key)?.count).toBe(2);
  });

  it("each channel gets only the severities and runs it asks for; the rest is not owed", async () => {
    const url = services.url;
    h = harnessFor(`
runs:
  - { name: exp001, ssh: local, workdir: /tmp/w, log: train.log }
  - { name: exp002, ssh: local, workdir: /tmp/w2, log: train.log }
alerts:
  console: false
  rules:
    gpu_idle: { for: 2m }
  webhooks:
    - { kind: pagerduty, url: "${url}", routingKey: "\${PD_KEY}", severities: [critical] }
    - { kind: ntfy, url: "${url}/training-alerts", token: "\${NTFY_TOKEN}", runs: [exp002] }
    - { kind: json, url: "${receiver.url}/all" }
`);
    idleFor(h, 3, 0, "exp001");
    expect(await h.alerting.deliverDue()).toBe(3);
    expect(services.incidents.size).toBe(0);
    expect(services.ntfy).toHaveLength(0);
    expect(receiver.received).toHaveLength(1);
    idleFor(h, 3, 0, "exp002");
    await h.alerting.deliverDue();
    expect(services.ntfy.map((p) => p.tags)).toEqual([["warning", "exp002"]]);
    expect(services.incidents.size).toBe(0);
    expect(h.alerting.backlog()).toBe(0);
  });

  it("refusals are permanent, outages are retried, and no error shows a secret", async () => {
    const wrong = {
      ...SECRETS,
      PD_KEY: "W0UTINGKEY0123456789abcdefABCDEF",
      GENIE_KEY: "wrong-genie-key",
      TG_TOKEN: "999:wrong-token",
      NTFY_TOKEN: "tk_wrong",
    };
    const config = parseConfig(yamlFor(), { env: wrong });
    const sinks = createConfiguredSinks(config);
    const message = {
      title: "exp001: test",
      severity: "critical" as const,
      run: "exp001",
      alerts: [
        {
          status: "firing" as const,
          rule: "crashed",
          run: "exp001",
          phase: null,
          severity: "critical" as const,
          summary: "crashed",
          dedupeKey: "crashed|exp001|-",
          startedAt: 0,
          at: 0,
          node: "vm1",
          repeatIntervalMs: 0,
        },
      ],
    };
    const results = await Promise.all(sinks.map((s) => s.deliver(message, "k1")));
    const byName = Object.fromEntries(sinks.map((s, i) => [s.name, results[i]]));
    expect(byName["ntfy-webhook:1"]).toMatchObject({ ok: false, retryable: false, error: /403/ });
    expect(byName["telegram-webhook:2"]).toMatchObject({
      ok: false,
      retryable: false,
      error: /401/,
    });
    expect(byName["pagerduty-webhook:3"]).toMatchObject({
      ok: false,
      retryable: false,
      error: /400/,
    });
    expect(byName["opsgenie-webhook:4"]).toMatchObject({
      ok: false,
      retryable: false,
      error: /401/,
    });
    const text = JSON.stringify(results);
    for (const value of Object.values(wrong)) expect(text).not.toContain(value);

    // A service that is down is retried by the outbox and gets the alert once it is back.
    const port = Number(new URL(services.url).port);
    await services.close();
    h = harnessFor(yamlFor());
    idleFor(h, 3, 0);
    const before = receiver.received.length;
    expect(await h.alerting.deliverDue()).toBe(1); // only the JSON receiver is up
    expect(receiver.received).toHaveLength(before + 1);
    expect(h.alerting.backlog()).toBeGreaterThan(0);
    services = await FakeOpsServices.start(OPTIONS, port);
    h.clock.advance(1_000);
    expect(await h.alerting.deliverDue()).toBe(4);
    expect(services.incidents.get("trainops/gpu_idle|exp001|-")?.triggers).toBe(1);
    expect(h.alerting.backlog()).toBe(0);
    h.clock.advance(60_000);
    expect(await h.alerting.deliverDue()).toBe(0);
    expect(receiver.received).toHaveLength(before + 1);
  });

  it("the daemon's log redacts every channel's secret", () => {
    const config = parseConfig(yamlFor(), { env: SECRETS });
    let text = "";
    const destination = new Writable({
      write(chunk, _encoding, done) {
        text += String(chunk);
        done();
      },
    });
    const log = createLogger({ level: "info", pretty: false, destination });
    for (const hook of config.alerts.webhooks) log.info({ hook }, "alert channel");
    expect(text.split("\n").filter(Boolean)).toHaveLength(5);
    for (const value of Object.values(SECRETS)) expect(text).not.toContain(value);
    expect(text).toContain("[redacted]");
  });

  it("an alert about one GPU carries its index to Alertmanager as the gpu label", async () => {
    h = alertHarness({
      config: testConfig({ rules: { memory_high: { for: "0s" } } }),
    });
    const busy = (index: number, usedGiB: number) => ({
      ...sample(0).gpus[0]!,
      index,
      memoryUsedMiB: usedGiB * 1024,
    });
    h.samples.insert(sample(h.clock.now(), { gpus: [busy(0, 40), busy(1, 79.5)] }));
    expect(h.alerting.evaluate("exp001").fired).toEqual(["memory_high"]);
    await h.alerting.deliverDue();
    const notice = h.sink.messages[0]?.alerts?.[0];
    expect(notice).toMatchObject({ rule: "memory_high", gpu: "1", status: "firing" });
    expect(postableAlert(notice!, h.sink.messages[0]!).labels).toMatchObject({
      alertname: "memory_high",
      run: "exp001",
      gpu: "1",
    });
  });
});
