import { readFileSync } from "node:fs";
import { beforeEach, describe, expect, it } from "vitest";
import { createBotCore } from "../../src/bot/core/bot-core.ts";
import { parseCommandText } from "../../src/bot/core/parse-command-text.ts";
import {
  CONSOLE,
  DISCORD_OPERATOR,
  DISCORD_ROLE_OPERATOR,
  DISCORD_VIEWER,
  RecordingResponder,
  req,
  SLACK_GROUP_OPERATOR,
  SLACK_OPERATOR,
  TRAIN_YAML,
  textOf,
  useBotFixture,
} from "./bot-fixture.ts";

const f = useBotFixture();
let responder: RecordingResponder;
beforeEach(() => {
  responder = new RecordingResponder();
});

describe("authorisation", () => {
  it("refuses mutating commands to non-operators, privately, naming what is needed, and audits it", async () => {
    const m = await f.core.execute(
      req("set", { run: "exp001", workers: "4" }, DISCORD_VIEWER),
      responder,
    );
    expect(m.ephemeral).toBe(true);
    expect(m.lines?.[0]).toBe(
      "/train set changes the run, so it needs a user or role listed in discord.operators. Ask an operator to run it or to add you (your id: 333333).",
    );
    const slack = await f.core.execute(
      req("restart", { run: "exp001" }, { ...SLACK_OPERATOR, userId: "U999" }),
      responder,
    );
    expect(slack.lines?.[0]).toContain("a user or user group listed in slack.operators");
    const [entry] = f.audit.list({ outcomes: ["refused"], limit: 5 }).reverse();
    expect(entry).toMatchObject({
      platform: "discord",
      userId: "333333",
      command: "set",
      run: "exp001",
      args: { run: "exp001", workers: "4" },
    });
    expect(f.confirmations.get("c1")).toBeNull();
  });

  it("lets operators by user, role, Slack user group and the console", async () => {
    for (const who of [
      DISCORD_OPERATOR,
      DISCORD_ROLE_OPERATOR,
      SLACK_OPERATOR,
      SLACK_GROUP_OPERATOR,
      CONSOLE,
    ]) {
      const m = await f.core.execute(req("restart", { run: "exp001" }, who), responder);
      expect(m.buttons?.length, who.userName).toBe(2);
    }
  });

  it("read commands work for everyone, but only in allowed channels", async () => {
    const ok = await f.core.execute(req("errors", { run: "exp001" }, DISCORD_VIEWER), responder);
    expect(ok.ephemeral).toBeUndefined();
    const elsewhere = await f.core.execute(
      req("errors", { run: "exp001" }, { ...DISCORD_VIEWER, channelId: "555" }),
      responder,
    );
    expect(elsewhere.lines?.[0]).toBe(
      "/train is not enabled in this channel. Use it in <#900>, <#901>.",
    );
    expect(f.audit.list({ outcomes: ["refused"] })[0]?.channelId).toBe("555");
  });
});

describe("validation", () => {
  it.each([
    [{ workers: "four" }, "workers must be an integer from 1 to 64; got 'four'"],
    [{ workers: "0" }, "workers must be an integer from 1 to 64; got '0'"],
    [{ batch: "2.5" }, "batch must be an integer from 1 to 4096; got '2.5'"],
    [{}, "set needs workers or batch, e.g. `/train set workers:4` or `/train set batch:2`"],
    [
      { worker: "4" },
      "set has no option 'worker'; usage: /train set [run] [workers:<1-64>] [batch:<1-4096>]",
    ],
    [{ workers: "4; rm -rf /" }, "workers must be an integer from 1 to 64; got '4; rm -rf /'"],
  ])("set %o → %s", async (args, message) => {
    const m = await f.core.execute(req("set", { run: "exp001", ...args }), responder);
    expect(m.ephemeral).toBe(true);
    expect(m.severity).toBe("warning");
    const usage = "usage: /train set [run] [workers:<1-64>] [batch:<1-4096>]";
    const full = message.includes(usage) ? message : `${message}; ${usage}`;
    expect(m.lines).toEqual([full]);
    expect(f.audit.list({ outcomes: ["invalid"] })[0]?.detail).toBe(full);
    expect(f.ops.applied).toHaveLength(0);
  });
});

describe("confirmation", () => {
  it("a change that is in but already failing is reported as a warning, not as done", async () => {
    f.ops.warning = "Training started, then failed: torch.OutOfMemoryError: CUDA out of memory";
    await f.core.execute(req("set", { run: "exp001", batch: "8" }, DISCORD_OPERATOR), responder);
    await f.core.press({ buttonId: "confirm:c1", invoker: DISCORD_OPERATOR }, responder);
    await f.core.idle();
    const last = responder.messages.at(-1);
    expect(last?.title).toBe("Applied, but failing: Set batch 8");
    expect(last?.severity).toBe("warning");
    expect(last?.lines).toEqual([
      "Set batch 8 applied; training restarted",
      "Training started, then failed: torch.OutOfMemoryError: CUDA out of memory",
      "Next: `/train errors`; `/train plan` shows the verdict.",
    ]);
    expect(f.confirmations.get("c1")?.state).toBe("applied");
  });

  it("shows the diff, applies once on Confirm, reports progress and audits each step", async () => {
    const m = await f.core.execute(
      req("set", { run: "exp001", workers: "4", batch: "2" }, DISCORD_OPERATOR),
      responder,
    );
    expect(m.title).toBe("Confirm: Set workers 4, batch 2");
    expect(m.code).toBe("training.workers: 1 → 4\ntraining.train_batch_size: 1 → 2");
    expect(m.buttons?.map((b) => b.id)).toEqual(["confirm:c1", "cancel:c1"]);
    expect(textOf(m)).toContain("Only alice can confirm. Expires in 10 min (12:10 UTC).");

    const first = await f.core.press(
      { buttonId: "confirm:c1", invoker: DISCORD_OPERATOR },
      responder,
    );
    const second = await f.core.press(
      { buttonId: "confirm:c1", invoker: DISCORD_OPERATOR },
      responder,
    );
    expect(first.title).toBe("Applying: Set workers 4, batch 2");
    expect(second.ephemeral).toBe(true);
    expect(second.title).toBe("Already confirmed");
    await f.core.idle();
    expect(f.ops.applied).toHaveLength(1);
    expect(f.ops.applied[0]?.actor).toEqual({
      platform: "discord",
      userId: "111111",
      name: "alice",
      channelId: "900",
    });
    expect(readFileSync(f.ops.file, "utf8")).toBe(
      "# experiment\ntraining:\n  workers: 4 # data loaders\n  train_batch_size: 2\n",
    );
    expect(responder.messages.map((x) => x.lines?.[0])).toEqual([
      "Config written, backup kept",
      "Restarting training",
      "Set workers 4, batch 2 applied; training restarted",
    ]);
    expect(responder.messages.at(-1)?.severity).toBe("success");
    expect(f.confirmations.get("c1")?.state).toBe("applied");
    expect(
      f.audit
        .list({ run: "exp001" })
        .map((e) => e.outcome)
        .reverse(),
    ).toEqual(["requested", "confirmed", "applied"]);
  });

  it("concurrent presses apply once", async () => {
    await f.core.execute(req("next-phase", { run: "exp001" }), responder);
    const replies = await Promise.all(
      Array.from({ length: 5 }, () =>
        f.core.press({ buttonId: "confirm:c1", invoker: CONSOLE }, responder),
      ),
    );
    await f.core.idle();
    expect(replies.filter((r) => r.title.startsWith("Applying")).length).toBe(1);
    expect(f.ops.applied).toHaveLength(1);
    expect(f.audit.list({ outcomes: ["applied"] })[0]?.args.phase).toBe("1");
  });

  it("only the requester can press; others get a private refusal that is audited", async () => {
    await f.core.execute(req("rollback", { run: "exp001" }, DISCORD_OPERATOR), responder);
    const other = await f.core.press(
      { buttonId: "confirm:c1", invoker: DISCORD_ROLE_OPERATOR },
      responder,
    );
    expect(other.ephemeral).toBe(true);
    expect(other.lines?.[0]).toBe(
      "Only alice, who asked for /train rollback, can confirm or cancel it. Run the command yourself for your own preview.",
    );
    const cancel = await f.core.press(
      { buttonId: "cancel:c1", invoker: DISCORD_VIEWER },
      responder,
    );
    expect(cancel.title).toBe("Not yours to press");
    expect(f.confirmations.get("c1")?.state).toBe("pending");
    expect(
      f.audit
        .list({ outcomes: ["refused"] })
        .map((e) => e.userId)
        .sort(),
    ).toEqual(["222222", "333333"]);
  });

  it("cancel changes nothing", async () => {
    await f.core.execute(req("set", { run: "exp001", batch: "2" }), responder);
    const m = await f.core.press({ buttonId: "cancel:c1", invoker: CONSOLE }, responder);
    expect(m.lines).toEqual(["Cancelled by ops; nothing changed."]);
    const late = await f.core.press({ buttonId: "confirm:c1", invoker: CONSOLE }, responder);
    expect(late.title).toBe("Already cancelled");
    await f.core.idle();
    expect(readFileSync(f.ops.file, "utf8")).toBe(TRAIN_YAML);
  });

  it("expires after confirmTimeout and says so", async () => {
    await f.core.execute(req("set", { run: "exp001", workers: "2" }), responder);
    f.clock.advance(10 * 60_000);
    const m = await f.core.press({ buttonId: "confirm:c1", invoker: CONSOLE }, responder);
    expect(m.title).toBe("Confirmation expired");
    expect(m.lines?.[0]).toBe(
      "This confirmation expired at 12:10 UTC; nothing changed. Run /train set again for a fresh preview.",
    );
    expect(f.confirmations.get("c1")?.state).toBe("expired");
    expect(f.audit.list({ outcomes: ["expired"] })).toHaveLength(1);
    expect(f.ops.applied).toHaveLength(0);
  });

  it("honours a configured confirmTimeout and sweeps expired ones", async () => {
    const core = createBotCore({
      config: { ...f.config, confirmTimeout: "30s" },
      db: { samples: f.samples, events: f.events, audit: f.audit, confirmations: f.confirmations },
      operations: f.ops,
      clock: f.clock,
      newId: () => "x1",
    });
    await core.execute(req("restart", { run: "exp001" }), responder);
    f.clock.advance(29_000);
    expect(core.expireConfirmations()).toBe(0);
    f.clock.advance(1_000);
    expect(core.expireConfirmations()).toBe(1);
    expect(f.confirmations.get("x1")?.state).toBe("expired");
  });

  it("survives a bot restart: a new core over the same store applies the stored preview", async () => {
    await f.core.execute(req("set", { run: "exp001", workers: "3" }), responder);
    const restarted = createBotCore({
      config: f.config,
      db: { samples: f.samples, events: f.events, audit: f.audit, confirmations: f.confirmations },
      operations: f.ops,
      clock: f.clock,
    });
    const m = await restarted.press({ buttonId: "confirm:c1", invoker: CONSOLE }, responder);
    expect(m.title).toBe("Applying: Set workers 3");
    await restarted.idle();
    expect(readFileSync(f.ops.file, "utf8")).toContain("workers: 3");
  });

  it("re-checks authority at the press: an operator removed from the config since the preview is refused", async () => {
    const asked = await f.core.execute(
      req("set", { run: "exp001", workers: "3" }, DISCORD_OPERATOR),
      responder,
    );
    expect(asked.buttons?.[0]?.id).toBe("confirm:c1");
    // The config loses the operator and the bot restarts over the same store.
    const config = {
      ...f.config,
      discord: {
        ...(f.config.discord as NonNullable<typeof f.config.discord>),
        operators: { users: [], roles: [] },
      },
    };
    const restarted = createBotCore({
      config,
      db: { samples: f.samples, events: f.events, audit: f.audit, confirmations: f.confirmations },
      operations: f.ops,
      clock: f.clock,
    });
    const m = await restarted.press(
      { buttonId: "confirm:c1", invoker: DISCORD_OPERATOR },
      responder,
    );
    await restarted.idle();
    expect(m.ephemeral).toBe(true);
    expect(m.title).toBe("No longer allowed");
    expect(m.lines?.[0]).toContain("needs a user or role listed in discord.operators");
    expect(m.lines?.[0]).toContain("Nothing changed; this confirmation is withdrawn.");
    expect(readFileSync(f.ops.file, "utf8")).not.toContain("workers: 3");
    expect(f.confirmations.get("c1")?.state).toBe("cancelled");
    const refused = f.audit.list({ outcomes: ["refused"] });
    expect(refused.map((e) => [e.command, e.userId])).toEqual([["set", DISCORD_OPERATOR.userId]]);
    expect(refused[0]?.detail).toMatch(/^confirm c1: no longer allowed: /);
    // The old core, still on the old config, finds it withdrawn: it cannot apply it later.
    const again = await f.core.press(
      { buttonId: "confirm:c1", invoker: DISCORD_OPERATOR },
      responder,
    );
    expect(again.title).toBe("Already cancelled");
    expect(readFileSync(f.ops.file, "utf8")).not.toContain("workers: 3");
  });

  it("a refused apply is reported and audited as failed", async () => {
    await f.core.execute(req("set", { run: "exp001", workers: "3" }), responder);
    await f.core.execute(req("set", { run: "exp001", workers: "5" }), responder);
    await f.core.press({ buttonId: "confirm:c1", invoker: CONSOLE }, responder);
    await f.core.idle();
    await f.core.press({ buttonId: "confirm:c2", invoker: CONSOLE }, responder);
    await f.core.idle();
    const last = responder.messages.at(-1);
    expect(last?.severity).toBe("critical");
    expect(last?.lines?.[0]).toBe("Refused: training.workers is no longer 1; preview again");
    expect(f.confirmations.get("c2")?.state).toBe("failed");
  });

  it("a stored preview that is not a known operation's is refused, not applied", async () => {
    const now = f.clock.now();
    f.confirmations.create({
      id: "bad1",
      run: "exp001",
      command: "set",
      args: {},
      preview: { run: "exp001", kind: "launch", title: "Launch", changes: [], diff: [] },
      platform: CONSOLE.platform,
      userId: CONSOLE.userId,
      userName: CONSOLE.userName,
      channelId: CONSOLE.channelId,
      createdAt: now,
      expiresAt: now + 60_000,
    });
    const m = await f.core.press({ buttonId: "confirm:bad1", invoker: CONSOLE }, responder);
    expect(m.title).toBe("Cannot apply this");
    expect(m.lines?.[0]).toMatch(
      /^the stored preview is not one this version of trainops can apply \(kind: /,
    );
    await f.core.idle();
    expect(f.ops.applied).toHaveLength(0);
    expect(f.confirmations.get("bad1")?.state).toBe("failed");
  });

  it("unknown buttons and ids are answered privately", async () => {
    expect((await f.core.press({ buttonId: "launch:1", invoker: CONSOLE }, responder)).title).toBe(
      "Unknown button",
    );
    expect(
      (await f.core.press({ buttonId: "confirm:nope", invoker: CONSOLE }, responder)).lines?.[0],
    ).toBe("No confirmation 'nope'. Run the command again for a fresh preview.");
  });
});

describe("mute and unmute", () => {
  it("silences with a reason, for operators only, audited", async () => {
    const refused = await f.core.execute(
      req("mute", { run: "exp001", duration: "2h", reason: "x" }, DISCORD_VIEWER),
      responder,
    );
    expect(refused.ephemeral).toBe(true);
    const bad = await f.core.execute(
      req("mute", { run: "exp001", duration: "soon", reason: "x" }),
      responder,
    );
    expect(bad.severity).toBe("warning");
    expect(bad.lines).toEqual([
      "duration must be a duration like 30m, 2h or 1d; got 'soon'; usage: /train mute [run] [rule:<rule>] duration:<duration> reason:<reason>",
    ]);
    const noReason = await f.core.execute(
      req("mute", { run: "exp001", duration: "2h" }),
      responder,
    );
    expect(noReason.lines).toEqual([
      "mute needs a reason, e.g. `/train mute 2h restarting the VM`; usage: /train mute [run] [rule:<rule>] duration:<duration> reason:<reason>",
    ]);
    const m = await f.core.execute(
      req(
        "mute",
        { run: "exp001", rule: "gpu_idle", duration: "2h", reason: "data prep" },
        DISCORD_OPERATOR,
      ),
      responder,
    );
    expect(m.title).toBe("Muted idle GPU alerts of exp001 for 2 h");
    expect(m.lines?.[0]).toBe("Until 2026-03-01 14:00 UTC. Reason: data prep.");
    expect(f.alerts.silences).toHaveLength(1);
    const un = await f.core.execute(req("unmute", { run: "exp001" }, DISCORD_OPERATOR), responder);
    expect(un.lines).toEqual(["1 silence ended; alerts flow again."]);
    expect(f.audit.list({ outcomes: ["done"] }).map((e) => e.command)).toEqual(["unmute", "mute"]);
    await f.core.execute(
      req("mute", {
        run: "exp001",
        duration: "1h",
        reason: "rotating token ghp_abcdefghijklmnopqrstuvwxyz0123456789",
      }),
      responder,
    );
    expect(f.alerts.silences.at(-1)?.reason).toBe("rotating token [redacted]");
    expect(JSON.stringify(f.audit.list())).not.toContain("ghp_");
  });
});

describe("mute as people write it", () => {
  it("takes a rule's alias or label and stores the rule's name", async () => {
    const oom = await f.core.execute(
      req("mute", { run: "exp001", rule: "oom", duration: "1h", reason: "testing batch 8" }),
      responder,
    );
    expect(oom.title).toBe("Muted CUDA OOM alerts of exp001 for 1 h");
    const label = await f.core.execute(
      req("mute", { run: "exp001", rule: "idle GPU", duration: "1h", reason: "data prep" }),
      responder,
    );
    expect(label.title).toBe("Muted idle GPU alerts of exp001 for 1 h");
    expect(f.alerts.silences.map((s) => s.rule)).toEqual(["cuda_oom", "gpu_idle"]);
  });

  it("an unknown alert is a warning that lists the alerts and the usage, and mutes nothing", async () => {
    const m = await f.core.execute(
      req("mute", { run: "exp001", rule: "oomz", duration: "1h", reason: "x" }),
      responder,
    );
    expect(m.severity).toBe("warning");
    expect(m.ephemeral).toBe(true);
    expect(m.lines?.[0]).toMatch(/^'oomz' is not an alert; mute one of: cuda_oom \(CUDA OOM\), /);
    expect(m.lines?.[0]).toContain("usage: /train mute");
    expect(m.lines?.[0]).not.toContain("trainops check");
    expect(f.alerts.silences).toHaveLength(0);
    expect(f.audit.list({ outcomes: ["invalid"] }).map((e) => e.command)).toEqual(["mute"]);
  });

  it("a duration after the reason is blamed on its place, not on the word before it", async () => {
    const parsed = parseCommandText("mute exp001 oom waiting for data 2h", ["exp001"]);
    const m = await f.core.execute(
      { subcommand: parsed.subcommand, args: parsed.args, invoker: CONSOLE },
      responder,
    );
    expect(m.severity).toBe("warning");
    expect(m.lines?.[0]).toMatch(
      /^the duration '2h' must come before the reason, right after the alert \(got 'waiting' where the duration goes\); usage: \/train mute /,
    );
    expect(f.alerts.silences).toHaveLength(0);
  });
});
