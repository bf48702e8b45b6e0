import { describe, expect, it } from "vitest";
import { parseProcessTable } from "../../../src/monitors/parsers/process-table.ts";
import { sampleLines } from "./corpus-sample.ts";

const options = { process: "train.py", workerProcess: "pt_data_worker" };

describe("parseProcessTable", () => {
  it("finds the trainer by args and its workers by comm, summing RSS", () => {
    const ps = [
      "    1     0   1000 99999 systemd",
      " 4100     1 7340032 10800 python",
      " 4101  4100 7340032 10790 pt_data_worker",
      " 4102  4100 6291456 10790 pt_data_worker",
      " 4200     1   2048   500 bash",
      " 4300  4200   1024     5 tail",
    ].join("\n");
    const args = [
      "1 /sbin/init",
      "4100 python train.py --config configs/experiments/exp001_full.yaml",
      "4101 python train.py --config configs/experiments/exp001_full.yaml",
      "4102 python train.py --config configs/experiments/exp001_full.yaml",
      "4200 -bash",
      "4300 tail -f runs/exp001_full/logs/train.py.log",
    ].join("\n");
    expect(parseProcessTable(ps, args, options)).toEqual({
      alive: true,
      trainer: { pid: 4100, rssBytes: 7340032 * 1024, elapsedSeconds: 10800 },
      workers: { count: 2, rssBytes: (7340032 + 6291456) * 1024 },
      workersFoundBy: "comm",
      workerPids: [4101, 4102],
      treePids: [4100, 4101, 4102],
    });
  });

  it("a comm with spaces is the rest of the line", () => {
    const summary = parseProcessTable(
      "10 1 100 60 my trainer\n11 10 50 59 pt_data_worker\n",
      "10 /usr/bin/python3 train.py\n11 /usr/bin/python3 train.py\n",
      options,
    );
    expect(summary.trainer?.pid).toBe(10);
    expect(summary.workers.count).toBe(1);
  });

  it("no trainer: not alive, and stray workers still count", () => {
    expect(parseProcessTable("5 1 10 3 pt_data_worker\n", "5 python other.py\n", options)).toEqual({
      alive: false,
      trainer: null,
      workers: { count: 1, rssBytes: 10 * 1024 },
      workersFoundBy: "comm",
      workerPids: [5],
      treePids: [],
    });
    expect(parseProcessTable("", "", options)).toEqual({
      alive: false,
      trainer: null,
      workers: { count: 0, rssBytes: 0 },
      workersFoundBy: null,
      workerPids: [],
      treePids: [],
    });
  });

  it("sys_01: torchrun with 8 ranks and 64 workers whose args equal the ranks'; only comm tells them apart", () => {
    // The corpus listing is `pid comm args`; give it the probe's shape with ppids from the torchrun tree.
    const rows = sampleLines("sys_01_ps_pt_data_worker_torchrun.txt")
      .map((line) => /^\s*(\d+) (\S+)\s+(.*)$/.exec(line))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => ({ pid: Number(m[1]), comm: m[2] as string, args: m[3] as string }));
    const ranks = rows.filter((r) => r.comm === "python").map((r) => r.pid);
    const ppidOf = (r: { pid: number; comm: string }, i: number) =>
      r.comm === "pt_elastic" ? 1 : r.comm === "python" ? 317775 : (ranks[i % 8] as number);
    const ps = rows.map((r, i) => `${r.pid} ${ppidOf(r, i)} 1024 3600 ${r.comm}`).join("\n");
    const args = rows.map((r) => `${r.pid} ${r.args}`).join("\n");
    const byComm = parseProcessTable(ps, args, {
      process: "pretrain_launcher.py",
      workerProcess: "pt_data_worker",
    });
    expect(byComm.workers.count).toBe(64);
    expect(byComm.trainer).toMatchObject({ rssBytes: 8 * 1024 * 1024 });
    // Matching workers by their command line, as the plan's `ps aux | grep` does, finds none of them...
    expect(rows.filter((r) => r.args.includes("pt_data_worker"))).toHaveLength(0);
    // ...and matching the trainer's args takes in every worker too.
    expect(rows.filter((r) => r.args.includes("pretrain_launcher.py"))).toHaveLength(72);
  });

  it("PyTorch 1.x: forked workers keep comm and args; they are the trainer's children with its exact command line", () => {
    const cmd = "/usr/bin/python3 train.py --config cfg.yaml";
    const summary = parseProcessTable(
      [
        "100 1 50000 60 python3",
        "101 100 20000 58 python3",
        "102 100 21000 58 python3",
        // A helper the trainer started with another command line is not a worker.
        "103 100 1000 58 python3",
      ].join("\n"),
      [`100 ${cmd}`, `101 ${cmd}`, `102 ${cmd}`, "103 /usr/bin/python3 -c import helper"].join(
        "\n",
      ),
      options,
    );
    expect(summary).toMatchObject({
      alive: true,
      trainer: { pid: 100, rssBytes: 50000 * 1024 },
      workers: { count: 2, rssBytes: 41000 * 1024 },
      workersFoundBy: "forked",
      workerPids: [101, 102],
    });
    expect(summary.treePids).toEqual([100, 101, 102, 103]);
  });

  it("torchrun ranks (children of torchrun, other args) are trainers; their forked children are workers", () => {
    const rank = (r: number) => `/usr/bin/python3 -u train.py --local_rank=${r}`;
    const summary = parseProcessTable(
      [
        "200 1 30000 100 torchrun",
        "201 200 40000 99 python3",
        "202 200 40000 99 python3",
        "211 201 10000 98 python3",
        "212 201 10000 98 python3",
        "221 202 10000 98 python3",
        "222 202 10000 98 python3",
      ].join("\n"),
      [
        "200 /usr/bin/python3 /usr/bin/torchrun --nproc_per_node=2 train.py",
        `201 ${rank(0)}`,
        `202 ${rank(1)}`,
        `211 ${rank(0)}`,
        `212 ${rank(0)}`,
        `221 ${rank(1)}`,
        `222 ${rank(1)}`,
      ].join("\n"),
      options,
    );
    expect(summary.trainer).toMatchObject({ pid: 200, rssBytes: (30000 + 80000) * 1024 });
    expect(summary.workers).toEqual({ count: 4, rssBytes: 40000 * 1024 });
    expect(summary.workersFoundBy).toBe("forked");
    expect(summary.workerPids.sort()).toEqual([211, 212, 221, 222]);
  });
});
