import { describe, expect, test } from "vitest";
import type { Message } from "../../../src/message/message.ts";
import { channelMessageBody } from "../../../src/platforms/discord/discord-payload.ts";
import { renderMessage } from "../../../src/platforms/discord/render-message.ts";
import { progressText, tableText } from "../../../src/platforms/discord/render-text.ts";
import { inviteUrl } from "../../../src/platforms/discord/train-command.ts";
import { messageProblems } from "../../harness/fake-discord/validation.ts";

/** What Discord would say about the rendered message: nothing, when it fits every limit. */
const problemsOf = (message: Message) =>
  messageProblems(channelMessageBody(renderMessage(message, { titleInContent: true })).body);

describe("renderMessage within Discord's limits", () => {
  test("a title over 256 characters is cut with a marker", () => {
    const [embed] = renderMessage({ title: "x".repeat(300), severity: "info" }).embeds;
    expect(embed?.title).toHaveLength(256);
    expect(embed?.title?.endsWith("… (truncated)")).toBe(true);
  });

  test("more than 25 fields: 24 shown and a field saying how many are not", () => {
    const fields = Array.from({ length: 30 }, (_, i) => ({ name: `GPU ${i}`, value: `${i} GiB` }));
    const [embed] = renderMessage({ title: "VRAM", severity: "info", fields }).embeds;
    expect(embed?.fields).toHaveLength(25);
    expect(embed?.fields?.[24]).toEqual({ name: "…", value: "6 more fields not shown" });
  });

  test("long field values and many of them stay under 1024 each and 6000 in total", () => {
    const fields = Array.from({ length: 25 }, (_, i) => ({
      name: `f${i}`,
      value: "v".repeat(2000),
    }));
    const message: Message = {
      title: "Big",
      severity: "warning",
      fields,
      lines: ["l".repeat(5000)],
    };
    expect(problemsOf(message)).toEqual([]);
    const [embed] = renderMessage(message).embeds;
    expect(embed?.fields?.[0]?.value).toHaveLength(1024);
    expect(embed?.fields?.at(-1)?.value).toMatch(/more fields? not shown/);
  });

  test("a huge log keeps its tail; lines, table and code together fit 4096", () => {
    const code = Array.from({ length: 5000 }, (_, i) => `line ${i}`).join("\n");
    const message: Message = {
      title: "Logs",
      severity: "info",
      lines: ["Last lines of exp001"],
      table: { columns: ["a", "b"], rows: [["1", "2"]] },
      code,
    };
    expect(problemsOf(message)).toEqual([]);
    const description = renderMessage(message).embeds[0]?.description ?? "";
    expect(
      description.startsWith("Last lines of exp001\n```\na  b\n-  -\n1  2\n```\n```\n… "),
    ).toBe(true);
    expect(description.endsWith("line 4999\n```")).toBe(true);
  });

  test("long prose is cut so the code block still shows", () => {
    const message: Message = {
      title: "t",
      severity: "info",
      lines: ["y".repeat(4090)],
      code: "abc",
    };
    const description = renderMessage(message).embeds[0]?.description ?? "";
    expect(description.length).toBeLessThanOrEqual(4096);
    expect(description.endsWith("y… (truncated)\n```\nabc\n```")).toBe(true);
  });

  test("mentions: exactly the named Discord ids are pinged, each once; Slack ids are left out", () => {
    const [u1, u2, r9] = ["456000000000000001", "456000000000000002", "567000000000000009"];
    const rendered = renderMessage(
      {
        title: "OOM",
        severity: "critical",
        mentions: { users: [u1, u1, u2, "U012AB"], roles: [r9, "S0123"] },
      },
      { titleInContent: true },
    );
    expect(rendered.content).toBe(`<@&${r9}> <@${u1}> <@${u2}> **OOM**`);
    expect(rendered.allowedMentions).toEqual({ parse: [], users: [u1, u2], roles: [r9] });
  });

  test("buttons: rows of five, ids over 100 characters left out", () => {
    const buttons = Array.from({ length: 7 }, (_, i) => ({
      id: `b${i}`,
      label: `Button ${i}`,
      style: "primary" as const,
    }));
    buttons.push({ id: "x".repeat(101), label: "too long", style: "primary" });
    const rows = renderMessage({ title: "t", severity: "info", buttons }).components;
    expect(rows.map((r) => r.components.length)).toEqual([5, 2]);
  });

  test("empty field text becomes a dash, which Discord accepts", () => {
    const message: Message = {
      title: "t",
      severity: "success",
      fields: [{ name: "", value: " " }],
    };
    expect(renderMessage(message).embeds[0]?.fields).toEqual([{ name: "—", value: "—" }]);
    expect(problemsOf(message)).toEqual([]);
  });

  test("progress bars and tables as monospace text", () => {
    expect(progressText({ label: "Epoch 1", value: 2000, max: 4000 })).toBe(
      "**Epoch 1**\n`██████████░░░░░░░░░░` 50.0%",
    );
    expect(progressText({ label: "Empty", value: 5, max: 0 })).toBe(
      "**Empty**\n`░░░░░░░░░░░░░░░░░░░░` 0.0%",
    );
    expect(
      tableText({
        columns: ["phase", "workers", "step time"],
        rows: [
          ["1", "2", "9.6 s"],
          ["2", "2", "5.4 s"],
        ],
      }),
    ).toBe(
      "phase  workers  step time\n-----  -------  ---------\n1      2        9.6 s\n2      2        5.4 s",
    );
  });
});

test("the invite URL asks for the least permissions: 1024 + 2048 + 16384 + 32768 = 52224", () => {
  const url = new URL(inviteUrl("123456789012345678", "234567890123456789"));
  expect(url.origin + url.pathname).toBe("https://discord.com/oauth2/authorize");
  expect(url.searchParams.get("scope")).toBe("bot applications.commands");
  expect(url.searchParams.get("permissions")).toBe(String(1024 + 2048 + 16384 + 32768));
  expect(url.searchParams.get("guild_id")).toBe("234567890123456789");
});
