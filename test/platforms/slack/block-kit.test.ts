import { describe, expect, it } from "vitest";
import type { Message } from "../../../src/message/message.ts";
import {
  progressLine,
  renderMessage,
  SLACK_LIMITS,
  truncate,
} from "../../../src/platforms/slack/block-kit.ts";
import { normaliseSlackText } from "../../../src/platforms/slack/command-text.ts";
import { checkMessageLimits } from "../../harness/fake-slack/block-limits.ts";

const within = (message: Message) => {
  const parts = renderMessage(message);
  for (const part of parts) expect(checkMessageLimits(part.text, part.blocks)).toBeUndefined();
  return parts;
};

describe("Block Kit rendering", () => {
  it("keeps every part within Slack's limits however large the message", () => {
    const huge: Message = {
      title: "T".repeat(400),
      severity: "warning",
      lines: ["L".repeat(9000), ...Array.from({ length: 300 }, (_, i) => `line ${i}`)],
      fields: Array.from({ length: 35 }, (_, i) => ({
        name: `f${i}`,
        value: "v".repeat(2500),
        inline: i % 7 !== 0,
      })),
      progress: Array.from({ length: 200 }, (_, i) => ({ label: `GPU${i}`, value: i, max: 200 })),
      table: {
        columns: ["a", "b"],
        rows: Array.from({ length: 2000 }, (_, i) => [`${i}`, "x".repeat(40)]),
      },
      code: "C".repeat(50_000),
      footer: "F".repeat(5000),
      buttons: [
        { id: "confirm:abc", label: "Confirm ".repeat(20), style: "danger" },
        { id: "cancel:abc", label: "Cancel", style: "secondary" },
      ],
    };
    const parts = within(huge);
    expect(parts.length).toBe(2);
    expect(parts[1]?.text).toMatch(/\(2\/2\)$/);
    expect(parts[1]?.blocks.at(-1)).toMatchObject({ type: "actions" });
    expect(JSON.stringify(parts)).toContain("more characters cut)");

    const endless = within({ ...huge, code: "C".repeat(1_000_000) });
    expect(endless.length).toBe(SLACK_LIMITS.partsPerMessage + 1);
    expect(endless.at(-1)?.blocks).toEqual([expect.objectContaining({ type: "actions" })]);
    expect(JSON.stringify(endless)).toContain("more blocks cut to stay within Slack's limits");
  });

  it("renders fields side by side, ten per section", () => {
    const parts = within({
      title: "status",
      severity: "info",
      fields: Array.from({ length: 12 }, (_, i) => ({
        name: `n${i}`,
        value: `v${i}`,
        inline: true,
      })),
    });
    const sections = parts[0]?.blocks.filter((b) => b.type === "section") ?? [];
    expect(sections.map((s) => (s.fields as unknown[]).length)).toEqual([10, 2]);
  });

  it("draws progress bars as text", () => {
    expect(progressLine({ label: "Epoch 1", value: 549, max: 4000 })).toBe(
      "*Epoch 1*  `███░░░░░░░░░░░░░░░░░` 549/4000 (13.7%)",
    );
    expect(progressLine({ label: "Done", value: 9, max: 0, caption: "n/a" })).toContain("n/a");
  });

  it("maps buttons to action ids the press handler routes, styles as Slack knows them", () => {
    const [part] = within({
      title: "Confirm",
      severity: "warning",
      buttons: [
        { id: "confirm:x1", label: "Confirm", style: "primary" },
        { id: "cancel:x1", label: "Cancel", style: "secondary" },
      ],
    });
    expect(part?.blocks.at(-1)).toEqual({
      type: "actions",
      block_id: "trainops_buttons",
      elements: [
        {
          type: "button",
          action_id: "trainops:confirm:x1",
          value: "confirm:x1",
          text: { type: "plain_text", text: "Confirm" },
          style: "primary",
        },
        {
          type: "button",
          action_id: "trainops:cancel:x1",
          value: "cancel:x1",
          text: { type: "plain_text", text: "Cancel" },
        },
      ],
    });
  });

  it("truncates with a marker that says how much was cut", () => {
    const cut = truncate("a".repeat(100), 50);
    expect(cut).toHaveLength(50);
    expect(cut).toMatch(/… \(\d+ more characters cut\)$/);
    expect(truncate("short", 50)).toBe("short");
  });
});

describe("slash command text", () => {
  it("undoes Slack's entity escaping and curly quotes", () => {
    expect(normaliseSlackText(" mute 2h “disk &lt;slow&gt; &amp; full” ")).toBe(
      'mute 2h "disk <slow> & full"',
    );
    expect(normaliseSlackText("mute 2h ‘it’s fine’")).toBe("mute 2h 'it's fine'");
  });
});
