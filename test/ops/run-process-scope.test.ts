import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { configSchema, type RunConfig } from "../../src/config/schema.ts";
import { listRunProcesses } from "../../src/monitors/run-process-list.ts";
import { LocalTransport } from "../../src/transport/local-transport.ts";
import { STAND_IN_TRAIN_PY, SYSTEM_PYTHON } from "../harness/pytorch-run.ts";
import { waitUntil } from "../harness/wait.ts";

const session = `trainops-scope-${process.pid}`;
const hasTmux = (() => {
  try {
    execFileSync("tmux", ["-V"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();
let dir: string;
let outside: ChildProcess;
const transport = new LocalTransport();

beforeAll(() => {
  if (!hasTmux) return;
  dir = mkdtempSync(join(tmpdir(), "trainops-scope-"));
  writeFileSync(join(dir, "train.py"), STAND_IN_TRAIN_PY);
  execFileSync("tmux", [
    "new-session",
    "-d",
    "-s",
    session,
    "-c",
    dir,
    `${SYSTEM_PYTHON} train.py`,
  ]);
  // The same script, same user, same directory, but not in the session.
  outside = spawn(SYSTEM_PYTHON, ["train.py"], { cwd: dir, stdio: "ignore" });
});

afterAll(async () => {
  try {
    execFileSync("tmux", ["kill-session", "-t", `=${session}`], { stdio: "ignore" });
  } catch {
    // Already gone.
  }
  outside?.kill("SIGKILL");
  await transport.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

it.skipIf(!hasTmux)(
  "with restart.tmuxSession, the run is the session's processes, wherever they work",
  async () => {
    const run = configSchema.parse({
      store: join(dir, "t.db"),
      runs: [
        {
          name: "tmuxed",
          ssh: "local",
          // Not where the job works: the session bounds the set, not the directory.
          workdir: tmpdir(),
          log: "train.log",
          process: "train.py",
          restart: { tmuxSession: session },
        },
      ],
    }).runs[0] as RunConfig;
    await waitUntil(
      async () => (await listRunProcesses(transport, run)).summary.workers.count === 2,
      {
        timeoutMs: 20_000,
        what: "the session's trainer and its two workers",
      },
    );
    const listed = await listRunProcesses(transport, run);
    expect(listed.scope).toBe("tmux");
    const pane = Number(
      execFileSync("tmux", ["list-panes", "-t", `=${session}`, "-F", "#{pane_pid}"], {
        encoding: "utf8",
      }).trim(),
    );
    expect(listed.summary.trainer?.pid).toBe(pane);
    expect(listed.summary.workersFoundBy).toBe("forked");
    expect(listed.tree.map((p) => p.pid)).not.toContain(outside.pid);
    expect(listed.tree).toHaveLength(3);
  },
  60_000,
);
