import { test } from "vitest";
import type { AlertSink } from "../../src/alerts/sinks/alert-sink.ts";
import { WebhookServer } from "../harness/webhook-server.ts";
import { type AlertHarness, alertHarness } from "./alert-fixture.ts";

/** What {@link webhookTest} gives each test that names it. */
export interface WebhookTestContext {
  /** A webhook server of the test's own, closed after it. */
  server: WebhookServer;
  /** Opens an alert harness delivering to `sinks`; closed after the test. */
  alertsOver(sinks: AlertSink[]): AlertHarness;
}

/**
 * `it` with the fixtures of the webhook delivery tests: a test that takes `{ server }` gets a
 * webhook server, one that takes `{ alertsOver }` opens alert harnesses; both are torn down
 * after the test, failed or not.
 */
export const webhookTest = test.extend<WebhookTestContext>({
  // biome-ignore lint/correctness/noEmptyPattern: vitest reads a fixture's dependencies from this pattern; these have none
  server: async ({}, use) => {
    const server = await WebhookServer.start();
    try {
      await use(server);
    } finally {
      await server.close();
    }
  },
  // biome-ignore lint/correctness/noEmptyPattern: as above
  alertsOver: async ({}, use) => {
    const opened: AlertHarness[] = [];
    try {
      await use((sinks) => {
        const h = alertHarness({ sinks });
        opened.push(h);
        return h;
      });
    } finally {
      for (const h of opened) h.close();
    }
  },
});
