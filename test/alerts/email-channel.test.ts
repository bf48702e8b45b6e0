import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/load-config.ts";
import { createConfiguredSinks } from "../../src/runtime/create-sinks.ts";
import { LocalSmtpServer, mailHeader, mailText } from "../harness/smtp-sink-server.ts";
import { type AlertHarness, alertHarness } from "./alert-fixture.ts";
import { idleFor } from "./channel-fixture.ts";

const PASSWORD = "smtp-secret-password";
let smtp: LocalSmtpServer;
let h: AlertHarness | undefined;

beforeEach(async () => {
  smtp = await LocalSmtpServer.start({ user: "trainops", password: PASSWORD });
});
afterEach(async () => {
  h?.close();
  h = undefined;
  await smtp.close();
});

function harness(password: string, extra = ""): AlertHarness {
  const config = parseConfig(
    `
runs:
  - { name: exp001, ssh: local, workdir: /tmp/w, log: train.log }
alerts:
  console: false
  rules:
    gpu_idle: { for: 2m }
  email:
    host: 127.0.0.1
    port: ${smtp.port}
    user: trainops
    password: \${SMTP_PASSWORD}
    from: "trainops <trainops@example.com>"
    to: [oncall@example.com, ml@example.com]
    timeout: 5s
${extra}`,
    { env: { SMTP_PASSWORD: password } },
  );
  return alertHarness({ config, sinks: createConfiguredSinks(config) });
}

describe("e-mail alerts over SMTP", () => {
  it("sends the alert and its resolution as mails, logged in with the password from the environment", async () => {
    h = harness(PASSWORD);
    idleFor(h, 3, 0);
    expect(await h.alerting.deliverDue()).toBe(1);
    expect(smtp.mails).toHaveLength(1);
    const mail = smtp.mails[0]!;
    expect(mail.user).toBe("trainops");
    expect(mail.from).toBe("trainops@example.com");
    expect(mail.to).toEqual(["oncall@example.com", "ml@example.com"]);
    expect(mailHeader(mail.raw, "Subject")).toMatch(/^\[WARNING\] exp001: GPU idle/);
    expect(mailHeader(mail.raw, "Message-ID")).toMatch(/^<.+@example\.com>$/);
    expect(mailText(mail.raw)).toContain("the data loader is the bottleneck");
    expect(mail.raw).not.toContain(PASSWORD);

    idleFor(h, 2, 90);
    expect(await h.alerting.deliverDue()).toBe(1);
    expect(mailHeader(smtp.mails[1]!.raw, "Subject")).toMatch(
      /^\[resolved\] exp001: idle GPU resolved/,
    );
  });

  it("a transient refusal (451) is retried; a wrong password (535) is not", async () => {
    h = harness(PASSWORD);
    smtp.rejectNext(451, "Try again later");
    idleFor(h, 3, 0);
    expect(await h.alerting.deliverDue()).toBe(0);
    expect(smtp.mails).toHaveLength(0);
    h.clock.advance(1_000);
    expect(await h.alerting.deliverDue()).toBe(1);
    expect(smtp.mails).toHaveLength(1);
    const [sink] = createConfiguredSinks(
      parseConfig(
        `runs: [{ name: exp001, ssh: local, workdir: /tmp/w, log: train.log }]
alerts: { console: false, email: { host: 127.0.0.1, port: ${smtp.port}, user: trainops, password: "\${P}", from: a@b.c, to: [x@y.z] } }`,
        { env: { P: "wrong-password" } },
      ),
    );
    const result = await sink!.deliver({ title: "t", severity: "critical" }, "k");
    expect(result).toMatchObject({
      ok: false,
      retryable: false,
      error: expect.stringMatching(/SMTP 535/),
    });
    expect(JSON.stringify(result)).not.toContain("wrong-password");
    expect(smtp.failedLogins).toBe(1);
  });

  it("an SMTP server that is down is retried, not dropped", async () => {
    const port = smtp.port;
    await smtp.close();
    const config = parseConfig(
      `runs: [{ name: exp001, ssh: local, workdir: /tmp/w, log: train.log }]
alerts: { console: false, email: { host: 127.0.0.1, port: ${port}, from: a@b.c, to: [x@y.z], timeout: 2s } }`,
    );
    const [sink] = createConfiguredSinks(config);
    const result = await sink!.deliver({ title: "t", severity: "critical" }, "k");
    expect(result).toMatchObject({ ok: false, retryable: true });
    smtp = await LocalSmtpServer.start({ user: "trainops", password: PASSWORD });
  });
});
