import { describe, expect, it } from "vitest";
import { selectRunProcesses } from "../../src/monitors/run-processes.ts";

const units = { uptime: 1000, clockTicks: 100, pageSize: 4096 };
const options = { process: "train.py", workerProcess: "pt_data_worker" };

/** A /proc/PID/stat line: pid, comm, state, ppid, session, start ticks, rss pages. */
function stat(pid: number, comm: string, ppid: number, session: number, state = "S"): string {
  const after = [
    state,
    ppid,
    pid,
    session,
    0,
    -1,
    0,
    0,
    0,
    0,
    0,
    1,
    1,
    0,
    0,
    20,
    0,
    1,
    0,
    5000,
    1e6,
    256,
  ];
  return `${pid} (${comm}) ${after.join(" ")}`;
}

const cmd = (pid: number, args: string) => `/proc/${pid}/cmdline:${args.replaceAll(" ", "\0")}\0`;

describe("selectRunProcesses", () => {
  const ps = [
    stat(10, "sh", 1, 10),
    stat(20, "python3", 1, 20),
    stat(21, "python3", 20, 20),
    stat(30, "python3", 1, 30),
    stat(99, "sh", 1, 99),
  ].join("\n");
  const args = [
    cmd(10, "sh start.sh"),
    cmd(20, "python3 train.py"),
    cmd(21, "python3 train.py"),
    cmd(30, "python3 train.py"),
    cmd(99, "sh -s train.py"),
  ].join("\n");

  it("in the workdir scope, only processes working in the workdir can be the trainer; the probe's own shell never is", () => {
    const listed = selectRunProcesses(
      { self: "99 1000", scope: "workdir", wd: "20 21 99", ps, args },
      units,
      options,
    );
    expect(listed.scope).toBe("workdir");
    expect(listed.tree.map((p) => [p.pid, p.role])).toEqual([
      [20, "trainer"],
      [21, "worker"],
    ]);
  });

  it("the started tree is the recorded process's session and descendants", () => {
    const listed = selectRunProcesses(
      { self: "99 1000", scope: "started 30", wd: "20 21", ps, args },
      units,
      options,
    );
    expect(listed.scope).toBe("started");
    expect(listed.tree.map((p) => p.pid)).toEqual([30]);
  });

  it("a started wrapper that put the job in a session of its own falls back to the workdir", () => {
    const listed = selectRunProcesses(
      { self: "99 1000", scope: "started 10", wd: "20 21", ps, args },
      units,
      options,
    );
    expect(listed.scope).toBe("workdir");
    expect(listed.summary.trainer?.pid).toBe(20);
  });

  it("a zombie trainer is not alive", () => {
    const listed = selectRunProcesses(
      {
        self: "99 1000",
        scope: "workdir",
        wd: "40",
        ps: stat(40, "python3", 1, 40, "Z"),
        args: cmd(40, "python3 train.py"),
      },
      units,
      options,
    );
    expect(listed.summary.alive).toBe(false);
  });
});
