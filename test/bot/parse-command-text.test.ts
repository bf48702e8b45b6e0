import { describe, expect, it } from "vitest";
import { parseCommandText } from "../../src/bot/core/parse-command-text.ts";
import { keepTail, redactSecrets } from "../../src/bot/core/redact-secrets.ts";
import { renderText, textBar } from "../../src/message/render-text.ts";

const runs = ["exp001", "exp002"];

describe("parseCommandText", () => {
  it.each([
    ["/train status exp001", { subcommand: "status", args: { run: "exp001" } }],
    ["status", { subcommand: "status", args: {} }],
    [
      "/train set exp001 workers=4 batch=2",
      { subcommand: "set", args: { run: "exp001", workers: "4", batch: "2" } },
    ],
    ["/train set workers:4", { subcommand: "set", args: { workers: "4" } }],
    // Shell syntax is no run name: it is left over, and the command layer answers with usage.
    ["set workers:$(rm -rf /)", { subcommand: "set", args: { workers: "$(rm", _: "-rf /)" } }],
    ["train logs exp002 100", { subcommand: "logs", args: { run: "exp002", lines: "100" } }],
    ["/train logs 100", { subcommand: "logs", args: { lines: "100" } }],
    [
      "/train chart exp001 vram 2d",
      { subcommand: "chart", args: { run: "exp001", metric: "vram", window: "2d" } },
    ],
    [
      "/train mute exp001 gpu_idle 2h waiting for data",
      {
        subcommand: "mute",
        args: { run: "exp001", rule: "gpu_idle", duration: "2h", reason: "waiting for data" },
      },
    ],
    [
      "/train mute 2h note: restarting",
      { subcommand: "mute", args: { duration: "2h", reason: "note: restarting" } },
    ],
    [
      '/train mute rule=nan_loss duration=1d reason="known issue"',
      { subcommand: "mute", args: { rule: "nan_loss", duration: "1d", reason: "known issue" } },
    ],
    ["/train status exp009", { subcommand: "status", args: { run: "exp009" } }],
    ["/train set exp001 4", { subcommand: "set", args: { run: "exp001", workers: "4" } }],
    ["/train set exp009 4", { subcommand: "set", args: { run: "exp009", workers: "4" } }],
    ["/train chart 2d", { subcommand: "chart", args: { window: "2d" } }],
    [
      "/train chart exp001 gpu_util",
      { subcommand: "chart", args: { run: "exp001", metric: "gpu_util" } },
    ],
    ["/train restart exp001 now", { subcommand: "restart", args: { run: "exp001", _: "now" } }],
  ])("%s", (text, expected) => {
    expect(parseCommandText(text, runs)).toEqual(expected);
  });
});

describe("redaction", () => {
  it("keeps ordinary text and redacts credential shapes", () => {
    expect(redactSecrets("Train step 549/4000 loss 0.41 lr=1e-4")).toBe(
      "Train step 549/4000 loss 0.41 lr=1e-4",
    );
    expect(redactSecrets("https://user:s3cret@example.com/x")).toBe(
      "https://user:[redacted]@example.com/x",
    );
    expect(redactSecrets('{"api_key": "abc123"}')).toBe('{"api_key": "[redacted]"}');
    expect(redactSecrets("HF_TOKEN=hf_aaaaaaaaaaaaaaaaaaaaaaaa")).toBe("HF_TOKEN=[redacted]");
    expect(redactSecrets("xapp-1-A0123-456-abcdef")).toBe("[redacted]");
    expect(
      redactSecrets("-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----"),
    ).toBe("[redacted]");
  });

  it("keeps the newest lines within the bound", () => {
    expect(keepTail("a\nb\nc", 3)).toEqual({ text: "b\nc", droppedLines: 1 });
    expect(keepTail("x".repeat(10), 4)).toEqual({ text: "xxxx", droppedLines: 0 });
  });
});

describe("renderText", () => {
  it("renders bars, fields, tables, code, images and buttons as a prompt", () => {
    expect(textBar(1, 4, 8)).toBe("██░░░░░░");
    const text = renderText(
      {
        title: "Confirm: Set workers 4",
        severity: "warning",
        lines: ["One change"],
        progress: [{ label: "Epoch 1", value: 549, max: 4000, caption: "549/4,000 (13.7%)" }],
        fields: [{ name: "Risk", value: "low" }],
        table: { columns: ["Phase", "Workers"], rows: [["1", "2"]] },
        code: "training.workers: 1 → 4",
        images: [{ name: "a.png", png: Buffer.alloc(0), alt: "chart" }],
        buttons: [
          { id: "confirm:c1", label: "Confirm", style: "primary" },
          { id: "cancel:c1", label: "Cancel", style: "secondary" },
        ],
        footer: "exp001",
      },
      { imagePaths: { "a.png": "/tmp/a.png" }, barWidth: 10 },
    );
    expect(text).toBe(
      [
        "⚠️ Confirm: Set workers 4",
        "  One change",
        "  Epoch 1 █░░░░░░░░░ 549/4,000 (13.7%)",
        "  Risk: low",
        "  Phase  Workers",
        "  -----  -------",
        "  1      2",
        "  │ training.workers: 1 → 4",
        "  [chart] /tmp/a.png (chart)",
        "  Type 'confirm c1' or 'cancel c1'.",
        "  — exp001",
      ].join("\n"),
    );
  });
});
