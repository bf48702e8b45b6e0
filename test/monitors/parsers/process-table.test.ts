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
    });
    expect(parseProcessTable("", "", options)).toEqual({
      alive: false,
      trainer: null,
      workers: { count: 0, rssBytes: 0 },
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
});
