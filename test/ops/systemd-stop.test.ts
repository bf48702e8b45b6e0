import { execFileSync } from "node:child_process";
import { afterEach, beforeEach, expect, it } from "vitest";
import { AuditRepo } from "../../src/store/audit-repo.ts";
import { createOpsFixture, type OpsFixture } from "./ops-fixture.ts";

// A run launched as a systemd unit is stopped with `systemctl stop`, through the real systemctl
// of this machine. Where systemd does not run (a container) or has no such unit, what systemctl
// says reaches the person, and nothing is recorded as done.

const UNIT = "trainops-test-trainer.service";
const ACTOR = { platform: "cli", userId: "tester", name: "tester", channelId: "", announce: true };

let f: OpsFixture;
beforeEach(() => {
  f = createOpsFixture({
    restart: {
      interruptTimeout: "3s",
      terminateTimeout: "3s",
      confirmTimeout: "6s",
      systemdUnit: UNIT,
    },
  });
  f.sample({ step: 10, at: Date.now() });
});
afterEach(() => f.cleanup());

/** What this machine's systemctl answers about the unit: its first line, and whether it ran. */
function systemctlSays(): { reached: boolean; line: string } {
  try {
    execFileSync("systemctl", ["show", "--property=LoadState", "--", UNIT], { stdio: "pipe" });
    return { reached: true, line: "" };
  } catch (error) {
    const err = error as { stdout?: Buffer; stderr?: Buffer };
    const out = `${err.stdout?.toString() ?? ""}${err.stderr?.toString() ?? ""}`;
    return { reached: false, line: out.trim().split("\n")[0] ?? "" };
  }
}

function expectedRefusal(): string {
  const says = systemctlSays();
  return says.reached
    ? `systemd has no unit ${UNIT} (neither the system's nor the SSH user's --user units)`
    : `systemctl could not reach systemd on the VM: ${says.line}`;
}

it("a stop's preview says what systemctl answered when it cannot stop the unit", async () => {
  await expect(f.ops.preview("stop", "exp")).rejects.toThrow(expectedRefusal());
});

it("a confirmed stop that systemd cannot carry out fails with systemctl's words and records no stop", async () => {
  const result = await f.ops.apply(
    {
      kind: "stop",
      run: "exp",
      title: "Stop training of exp",
      changes: [],
      diff: [],
      restarts: false,
    },
    ACTOR,
  );
  if (result.ok) throw new Error(`stopped a unit that does not exist: ${result.summary}`);
  expect(result.summary).toBe(`Stopping exp failed: ${expectedRefusal()}`);
  // The rules still treat a later death of the unit as news.
  expect(f.expectedStop()).toBeNull();
  const audit = new AuditRepo(f.db).list({ run: "exp" }).filter((e) => e.command === "stop");
  expect(audit.map((e) => e.outcome)).toEqual(["failed"]);
  const journal = f.db
    .prepare("SELECT step, outcome FROM operation_journal WHERE kind = 'stop'")
    .all();
  expect(journal).toEqual([{ step: "locked", outcome: "failed" }]);
  // The terminal's actor is told in chat once, as failed.
  const notices = f.notes.filter((n) => n.key.startsWith("operation:exp:"));
  expect(notices.map((n) => n.message.title)).toEqual(["exp: Stop training of exp: failed"]);
});
