import { type ChildProcess, spawn } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Config, configSchema } from "../../src/config/schema.ts";
import { checkRun } from "../../src/monitors/run-check.ts";
import { EventsRepo } from "../../src/store/events-repo.ts";
import { runTrainops } from "../harness/cli.ts";
import { SYSTEM_PYTHON } from "../harness/pytorch-run.ts";
import { attachMonitor, detachMonitor } from "../harness/simulated-run.ts";
import { type SshdHarness, startSshd } from "../harness/sshd.ts";
import { waitUntil } from "../harness/wait.ts";

/**
 * A host OOM kill when the SSH user may read no kernel log: `dmesg` refuses as it does under
 * `kernel.dmesg_restrict=1` for non-root, and `journalctl -k` only hints, as it does for a user
 * outside `systemd-journal`/`adm` (both are the first programs on the sessions' PATH). The
 * trainer's cgroup counter is then what tells, and `trainops check` says what to grant.
 */

const FAKE_DMESG = `#!/bin/sh
echo "dmesg: read kernel buffer failed: Operation not permitted" >&2
exit 1
`;
/**
 * Refuses as for an unprivileged user, until the test grants it by writing journal.txt (lines
 * `<seq> <entry>`); then prints the entries after --after-cursor (`s=<seq>`) and the cursor.
 */
const fakeJournalctl = (dir: string) => `#!/bin/sh
echo "$*" >> ${dir}/journalctl.args
if [ -r ${dir}/journal.txt ]; then
  after=0
  for a; do case $a in --after-cursor=s=*) after=\${a#--after-cursor=s=};; esac; done
  last=""
  while read -r n entry; do
    if [ "$n" -gt "$after" ]; then printf '%s\n' "$entry"; last=$n; fi
  done < ${dir}/journal.txt
  [ -n "$last" ] && echo "-- cursor: s=$last"
  exit 0
fi
echo "Hint: You are currently not seeing messages from other users and the system." >&2
echo "      Users in groups 'adm', 'systemd-journal' can see all messages." >&2
echo "-- No entries --"
exit 0
`;
/** A light stand-in trainer: step lines, nothing else. */
const TRAIN_PY = `import time
step = 0
while True:
    step += 1
    print(f"Train step {step}/100000 loss=0.5", flush=True)
    time.sleep(0.1)
`;

/** The memory cgroup (v1) this test process is in, when its directory takes a child. */
function writableMemoryCgroup(): string | null {
  try {
    const line = readFileSync("/proc/self/cgroup", "utf8")
      .split("\n")
      .find((l) => /^\d+:([^:]*,)?memory(,[^:]*)?:/.test(l));
    if (!line) return null;
    const dir = join("/sys/fs/cgroup/memory", line.slice(line.lastIndexOf(":") + 1));
    const probe = join(dir, `trainops-probe-${process.pid}`);
    mkdirSync(probe);
    rmdirSync(probe);
    return dir;
  } catch {
    return null;
  }
}

const parentCgroup = writableMemoryCgroup();

let sshd: SshdHarness;
let root: string;
let workdir: string;
let config: Config;
let configPath: string;
const started: ChildProcess[] = [];

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "trainops-oom-sources-"));
  chmodSync(root, 0o755);
  const bin = join(root, "bin");
  mkdirSync(bin);
  writeFileSync(join(bin, "dmesg"), FAKE_DMESG, { mode: 0o755 });
  writeFileSync(join(bin, "journalctl"), fakeJournalctl(root), { mode: 0o755 });
  sshd = await startSshd({
    setEnv: { PATH: `${bin}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin` },
  });
  workdir = join(root, "work");
  mkdirSync(workdir);
  writeFileSync(join(workdir, "train.py"), TRAIN_PY);
  writeFileSync(join(workdir, "train.log"), "");
  const doc = {
    store: join(root, "trainops.db"),
    runs: [
      {
        name: "oom",
        ssh: sshd.runConfigSsh(),
        workdir,
        log: "train.log",
        nvidiaSmi: "/bin/false",
        process: "train.py",
        follow: false,
      },
    ],
    alerts: { console: false },
  };
  configPath = join(root, "trainops.yaml");
  writeFileSync(configPath, JSON.stringify(doc));
  config = configSchema.parse(doc);
});

afterAll(async () => {
  for (const child of started) child.kill("SIGKILL");
  await Promise.all(
    started.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) resolve();
          else child.once("exit", () => resolve());
        }),
    ),
  );
  await sshd?.stop();
  rmSync(root, { recursive: true, force: true });
});

describe("host OOM kills without a readable kernel log", () => {
  it("trainops check names the refusals and what to grant, and fails", async () => {
    const out = await runTrainops(["check", "--config", configPath], { timeoutMs: 60_000 });
    expect(out.code).toBe(1);
    const line = out.stdout.split("\n").find((l) => /\boom-kill\b/.test(l)) ?? "";
    expect(line).toMatch(/^FAIL\s+oom\s+oom-kill\s+/);
    expect(line).toContain(
      "dmesg: refused (dmesg: read kernel buffer failed: Operation not permitted)",
    );
    expect(line).toContain(
      "kernel journal: refused (Hint: You are currently not seeing messages from other users and the system.)",
    );
    expect(line).toContain("cgroup OOM counter: unknown until training runs");
    expect(line).toContain("host OOM kills are not seen");
    expect(line).toContain("`sysctl kernel.dmesg_restrict=0`");
    expect(line).toContain("`systemd-journal` or `adm` group");
  }, 90_000);

  it.skipIf(parentCgroup === null)(
    "a kill in the trainer's cgroup is a host_oom_kill from its oom_kill counter",
    async () => {
      const cgroup = join(parentCgroup as string, `trainops-oom-${process.pid}`);
      mkdirSync(cgroup);
      try {
        const trainer = spawn(SYSTEM_PYTHON, ["train.py"], {
          cwd: workdir,
          stdio: ["ignore", "pipe", "inherit"],
        });
        started.push(trainer);
        writeFileSync(join(cgroup, "cgroup.procs"), String(trainer.pid));
        trainer.stdout?.on("data", (chunk: Buffer) =>
          writeFileSync(join(workdir, "train.log"), chunk, { flag: "a" }),
        );
        const usage = Number(readFileSync(join(cgroup, "memory.usage_in_bytes"), "utf8"));
        writeFileSync(join(cgroup, "memory.limit_in_bytes"), String(usage + 64 * 1024 * 1024));

        const attached = attachMonitor(config);
        const { run, db, transport, monitor } = attached;
        try {
          // First the trainer's pid, then its cgroup, then the counter's baseline.
          await waitUntil(async () => (await monitor.pollOnce()).sample.alive === true, {
            timeoutMs: 20_000,
            what: "the trainer",
          });
          await monitor.pollOnce();
          await monitor.pollOnce();
          expect(monitor.kernelSource).toBe("none");
          const checks = await checkRun(run, transport);
          const oom = checks.find((c) => c.check === "oom-kill");
          expect(oom?.ok).toBe(true);
          expect(oom?.detail).toContain(
            `cgroup OOM counter: readable (${join(cgroup, "memory.oom_control")}, oom_kill 0)`,
          );

          // A memory hog in the same cgroup, first in line for the OOM killer.
          const hog = spawn(
            SYSTEM_PYTHON,
            ["-c", "import sys; sys.stdin.read(1); b = b'x' * (256 << 20); print(len(b))"],
            { stdio: ["pipe", "ignore", "ignore"] },
          );
          started.push(hog);
          writeFileSync(join(cgroup, "cgroup.procs"), String(hog.pid));
          writeFileSync(`/proc/${hog.pid}/oom_score_adj`, "1000");
          const ended = new Promise<NodeJS.Signals | null>((resolve) =>
            hog.once("exit", (_code, signal) => resolve(signal)),
          );
          hog.stdin?.end("go");
          expect(await ended).toBe("SIGKILL");

          const report = await monitor.pollOnce();
          const event = report.events.find((e) => e.kind === "host_oom_kill");
          expect(event?.detail).toMatchObject({ source: "cgroup", kills: 1 });
          expect(event?.line).toContain("(oom_kill 0 → 1)");
          expect(
            new EventsRepo(db).range(run.name, 0, Date.now() + 1).map((e) => e.kind),
          ).toContain("host_oom_kill");
          expect(report.sample.alive).toBe(true);
        } finally {
          await detachMonitor(attached);
        }
      } finally {
        for (const child of started.splice(0)) {
          child.kill("SIGKILL");
          if (child.exitCode === null && child.signalCode === null) {
            await new Promise<void>((resolve) => child.once("exit", () => resolve()));
          }
        }
        if (existsSync(cgroup)) rmdirSync(cgroup);
      }
    },
    90_000,
  );

  it("with the journal granted, kernel lines come from journalctl -k, read after the last cursor", async () => {
    writeFileSync(
      join(root, "journal.txt"),
      "1 [  100.000000] vm kernel: Out of memory: Killed process 1111 (python3) total-vm:1kB, anon-rss:1kB\n",
    );
    // A store of its own: the monitor attaches afresh, so the journal's past is history.
    const attached = attachMonitor(config, { storePath: join(root, "journal.db") });
    const { run, transport, monitor } = attached;
    try {
      // What was in the journal before the monitor attached is history.
      expect((await monitor.pollOnce()).events).toEqual([]);
      expect(monitor.kernelSource).toBe("journal");
      writeFileSync(
        join(root, "journal.txt"),
        `2 [${readFileSync("/proc/uptime", "utf8").split(" ")[0]}] vm kernel: Out of memory: Killed process 4242 (pt_data_worker) total-vm:9kB, anon-rss:8kB\n`,
        { flag: "a" },
      );
      const report = await monitor.pollOnce();
      expect(report.events.map((e) => [e.kind, e.detail?.pid, e.line])).toEqual([
        [
          "host_oom_kill",
          4242,
          "Out of memory: Killed process 4242 (pt_data_worker) total-vm:9kB, anon-rss:8kB",
        ],
      ]);
      // The second read started after the first one's cursor; a third finds nothing new.
      expect((await monitor.pollOnce()).events).toEqual([]);
      const calls = readFileSync(join(root, "journalctl.args"), "utf8").trim().split("\n");
      expect(calls.slice(-3).map((c) => /--after-cursor=(\S+)/.exec(c)?.[1] ?? null)).toEqual([
        null,
        "s=1",
        "s=2",
      ]);
      const checks = await checkRun(run, transport);
      const oom = checks.find((c) => c.check === "oom-kill");
      expect(oom?.ok).toBe(true);
      expect(oom?.detail).toContain("kernel journal (journalctl -k): readable");
    } finally {
      await detachMonitor(attached);
      rmSync(join(root, "journal.txt"));
    }
  }, 90_000);
});
