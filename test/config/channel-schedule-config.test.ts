import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/config/config-error.ts";
import { parseConfig } from "../../src/config/load-config.ts";

const RUN = "runs:\n  - name: exp001\n    ssh: local\n    workdir: /w\n    log: l.log\n";

function problemsOf(text: string): string[] {
  try {
    parseConfig(RUN + text, { source: "t.yaml", env: {}, baseDir: "/etc/trainops", home: "/h" });
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return [...(error as ConfigError).problems];
  }
  throw new Error("expected a ConfigError");
}

const hook = (keys: string) =>
  `alerts:\n  webhooks:\n    - kind: json\n      url: https://example.com/h\n${keys}`;

describe("digest and quiet hours settings", () => {
  it("accept a daily time, a cron expression, days and zones on every kind of channel", () => {
    const config = parseConfig(
      `${RUN}timezone: Europe/Berlin
alerts:
  webhooks:
    - kind: slack
      url: https://hooks.slack.com/services/T/B/x
      digest: { at: "09:00", days: [mon, tue, wed, thu, fri] }
      quietHours: [{ from: "22:00", to: "07:00" }]
  email:
    host: smtp.example.com
    from: trainops@example.com
    to: [me@example.com]
    digest: { cron: "0 8 * * 1", timezone: America/New_York, runs: [exp001] }
discord:
  alertChannel: "123456789012"
  quietHours: [{ from: "23:30", to: "06:00", days: [sat, sun] }]
  timezone: Asia/Tokyo
slack:
  alertChannel: C0123
  digest: { at: "18:30" }
`,
      { env: {}, baseDir: "/etc/trainops", home: "/h" },
    );
    expect(config.alerts.webhooks[0]).toMatchObject({
      digest: { at: "09:00", days: ["mon", "tue", "wed", "thu", "fri"] },
      quietHours: [{ from: "22:00", to: "07:00" }],
    });
    expect(config.alerts.email?.digest).toEqual({
      cron: "0 8 * * 1",
      timezone: "America/New_York",
      runs: ["exp001"],
    });
    expect(config.discord?.timezone).toBe("Asia/Tokyo");
    expect(config.slack?.digest).toEqual({ at: "18:30" });
  });

  it("name the key and the fix for a bad time, zone, cron expression or window", () => {
    expect(problemsOf(hook('      digest: { at: "25:00" }\n')).join("\n")).toMatch(
      /alerts\.webhooks\[0\]\.digest\.at.*24-hour clock time "HH:MM", e\.g\. "09:00"/,
    );
    expect(problemsOf(hook('      digest: { at: "9am" }\n')).join("\n")).toMatch(
      /alerts\.webhooks\[0\]\.digest\.at.*"HH:MM"/,
    );
    expect(
      problemsOf(hook('      digest: { at: "09:00", timezone: Mars/Olympus }\n')).join("\n"),
    ).toMatch(
      /alerts\.webhooks\[0\]\.digest\.timezone.*'Mars\/Olympus' is not a time zone; expected an IANA name such as UTC, Europe\/Berlin/,
    );
    expect(problemsOf(hook("      timezone: CEST+1\n")).join("\n")).toMatch(
      /alerts\.webhooks\[0\]\.timezone.*'CEST\+1' is not a time zone/,
    );
    expect(problemsOf(hook('      digest: { cron: "0 9 * *" }\n')).join("\n")).toMatch(
      /digest\.cron.*expected five cron fields "minute hour day-of-month month day-of-week".*got 4/,
    );
    expect(problemsOf(hook('      digest: { cron: "0 25 * * *" }\n')).join("\n")).toMatch(
      /digest\.cron.*not a cron expression: 25 is a invalid expression for hour/,
    );
    expect(problemsOf(hook("      digest: { runs: [exp001] }\n")).join("\n")).toMatch(
      /digest.*set exactly one of `at` \(e\.g\. at: "09:00"\) or `cron`/,
    );
    expect(problemsOf(hook('      digest: { at: "09:00", dayz: [mon] }\n')).join("\n")).toMatch(
      /dayz/,
    );
    expect(
      problemsOf(hook('      quietHours: [{ from: "22:00", to: "22:00" }]\n')).join("\n"),
    ).toMatch(/quietHours\[0\].*`from` and `to` are the same time/);
    expect(problemsOf(hook('      quietHours: [{ from: "22:00" }]\n')).join("\n")).toMatch(
      /quietHours\[0\]\.to/,
    );
    expect(
      problemsOf(hook('      quietHours: [{ from: "22:00", to: "07:00", days: [monday] }]\n')).join(
        "\n",
      ),
    ).toMatch(/quietHours\[0\]\.days\[0\]/);
    expect(problemsOf(hook('      digest: { at: "09:00", runs: [exp01] }\n')).join("\n")).toBe(
      't.yaml: alerts.webhooks[0].digest.runs[0]: no run is named "exp01" — fix: did you mean "exp001"?',
    );
    expect(problemsOf(hook('      digest: { at: "09:00", runs: [other] }\n')).join("\n")).toMatch(
      /no run is named "other" — fix: use one of exp001/,
    );
    expect(problemsOf('discord:\n  quietHours: [{ from: "7", to: "8" }]\n').join("\n")).toMatch(
      /discord\.quietHours\[0\]\.from.*"HH:MM"/,
    );
  });
});
