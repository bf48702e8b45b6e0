import {
  appendFileSync,
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { RunConfig } from "../../src/config/schema.ts";
import { ManualClock } from "../../src/core/clock.ts";
import { pollHost } from "../../src/monitors/host-poll.ts";
import { RunMonitor } from "../../src/monitors/run-monitor.ts";
import { openDatabase } from "../../src/store/database.ts";
import { createMonitorStore, type MonitorStore } from "../../src/store/monitor-store.ts";
import { createTransport } from "../../src/transport/create-transport.ts";
import { HostTransportPool } from "../../src/transport/host-transport-pool.ts";
import { shellQuote } from "../../src/transport/shell-quote.ts";
import type { Transport } from "../../src/transport/transport.ts";
import { stepLine } from "../harness/fake-run-dir.ts";
import { markerLine, ShimmedTransport } from "../harness/shimmed-transport.ts";
import { useSshdRunDirs } from "../harness/sshd-run-dirs.ts";

// One probe reads the logs of every run of a host. A run whose log only grew is read with one
// stat and one tail, and the prefixes of all such logs are checked once after every read. These
// tests run the host probe over a real sshd with shims first on PATH: each counts its calls,
// and `tail` can run an armed action first (a copytruncate of one run's log), so the race lands
// exactly between that run's look at its log and its read, every time.

const vm = useSshdRunDirs("trainops-host-races-");

/** Lines past the 4 KiB prefix, the same in every log: only the inode tells two logs apart. */
const HEADER = Array.from({ length: 60 }, (_, i) => `config line ${i}: ${"=".repeat(80)}\n`).join(
  "",
);

const COUNTED = ["stat", "tail", "head", "cksum", "od"] as const;

interface Host {
  logs: string[];
  monitors: RunMonitor[];
  store: MonitorStore;
  runs: RunConfig[];
  /** Makes the next `tail` of run `i`'s log run `action` (sh) first, once. */
  arm(i: number, action: string): void;
  fired(): boolean;
  /** Calls of each counted command since the last `calls()`. */
  calls(): Record<string, number>;
  poll(): ReturnType<typeof pollHost>;
  /** How often each marker is stored, per run. */
  stored(i: number): Record<number, number>;
  /** Polls until every run's stored offset is at the end of its log. */
  catchUp(): Promise<void>;
  close(): Promise<void>;
}

let counter = 0;
function host(n: number, overrides: Record<string, unknown> = {}): Host {
  counter += 1;
  const dir = join(vm.root, `host${counter}`);
  const shim = join(dir, "shim");
  mkdirSync(shim, { recursive: true });
  const callsFile = join(dir, "calls");
  writeFileSync(callsFile, "");
  const trigger = join(dir, "armed.sh");
  const target = join(dir, "armed.target");
  const done = join(dir, "fired");
  for (const name of COUNTED) {
    const armed =
      name === "tail"
        ? `for last; do :; done
if [ -e ${shellQuote(trigger)} ] && [ "$(PATH=/usr/bin:/bin stat -L -c %i -- "$last" 2>/dev/null)" = "$(cat ${shellQuote(target)})" ]; then
  mv -- ${shellQuote(trigger)} ${shellQuote(`${trigger}.run`)}
  . ${shellQuote(`${trigger}.run`)}
  : > ${shellQuote(done)}
fi
`
        : "";
    writeFileSync(
      join(shim, name),
      `#!/bin/sh\necho ${name} >> ${shellQuote(callsFile)}\n${armed}PATH=/usr/bin:/bin exec ${name} "$@"\n`,
    );
    chmodSync(join(shim, name), 0o755);
  }
  const logs: string[] = [];
  const runs = Array.from({ length: n }, (_, i) => {
    const { run, logPath } = vm.runDir(`host${counter}/run${i}`, {
      name: `h${counter}-run${i}`,
      log: "train.log",
      content: HEADER,
      nvidiaSmi: "",
      steps: { perEpoch: 4000, epochs: 32 },
      ...overrides,
    });
    logs.push(logPath);
    return run;
  });
  const store = createMonitorStore(openDatabase(join(dir, "trainops.db")));
  const clock = new ManualClock();
  const pool = new HostTransportPool((run) => new ShimmedTransport(createTransport(run), shim));
  const transports = runs.map((run) => pool.get(run));
  const monitors = runs.map(
    (run, i) => new RunMonitor({ run, transport: transports[i] as Transport, store, clock }),
  );
  let seen = 0;
  const poll = () => pollHost(monitors, { store, clock });
  return {
    logs,
    monitors,
    store,
    runs,
    arm: (i, action) => {
      writeFileSync(target, String(statSync(logs[i] as string).ino));
      writeFileSync(trigger, `${action}\n`);
    },
    fired: () => existsSync(done),
    calls: () => {
      const lines = readFileSync(callsFile, "utf8").split("\n").filter(Boolean);
      const counts: Record<string, number> = Object.fromEntries(COUNTED.map((c) => [c, 0]));
      for (const line of lines.slice(seen)) counts[line] = (counts[line] ?? 0) + 1;
      seen = lines.length;
      return counts;
    },
    poll,
    stored: (i) => {
      const counts: Record<number, number> = {};
      for (const event of store.events.recent(runs[i]?.name as string, 1000)) {
        const id = Number(/marker-(\d+)/.exec(event.line)?.[1] ?? Number.NaN);
        if (Number.isFinite(id)) counts[id] = (counts[id] ?? 0) + 1;
      }
      return counts;
    },
    catchUp: async () => {
      for (let round = 0; round < 20; round++) {
        const behind = runs.some((run, i) => {
          const stat = statSync(logs[i] as string);
          const offset = store.offsets.get(run.name);
          return offset?.inode !== String(stat.ino) || offset.offset !== stat.size;
        });
        if (!behind) return;
        await poll();
      }
      throw new Error("the monitors did not catch up with their logs in 20 rounds");
    },
    close: () => Promise.all(transports.map((t) => t.close())).then(() => undefined),
  };
}

describe("a host probe's log reads", () => {
  it("logs that only grew cost a tail each, one stat per four logs and one prefix check for the host", async () => {
    const h = host(6);
    try {
      await h.poll();
      h.logs.forEach((log, i) => {
        appendFileSync(log, `${stepLine(1)}\n${markerLine(10 + i)}\n`);
      });
      await h.poll();
      h.calls();
      h.logs.forEach((log, i) => {
        appendFileSync(log, `${stepLine(2)}\n${markerLine(20 + i)}\n`);
      });
      const reports = await h.poll();
      expect(reports.map((r) => r.outcome)).toEqual(["ok", "ok", "ok", "ok", "ok", "ok"]);
      expect(h.calls()).toEqual({ stat: 2, tail: 6, head: 1, cksum: 1, od: 0 });
      // Nothing new: nothing read; the prefixes are still checked, once for the host.
      await h.poll();
      expect(h.calls()).toEqual({ stat: 2, tail: 0, head: 1, cksum: 1, od: 0 });
      h.runs.forEach((_, i) => {
        expect(h.stored(i)).toEqual({ [10 + i]: 1, [20 + i]: 1 });
      });
    } finally {
      await h.close();
    }
  });

  it("a copytruncate racing one run's read: that run reads again, no line twice, the others read on", async () => {
    // Each read stops inside a long run of one byte: the bytes before the offset tell nothing.
    const h = host(3, { maxReadBytes: 8192 });
    try {
      h.logs.forEach((log, i) => {
        appendFileSync(log, `${markerLine(100 * i + 1)}\n${"x".repeat(20_000)}\n`);
      });
      await h.poll();
      await h.poll();
      // Still inside the run of bytes (each read brings the anchor's 256 bytes again).
      const size = statSync(h.logs[0] as string).size;
      for (const m of h.monitors) {
        expect(h.store.offsets.get(m.name)?.offset).toBeGreaterThan(8192);
        expect(h.store.offsets.get(m.name)?.offset).toBeLessThan(size - 4096);
      }
      // During run 1's read its log is copied, emptied and written again past the offset, with
      // the same bytes where the old one stopped; the other logs are read on.
      const fresh = join(vm.root, `fresh${counter}.log`);
      writeFileSync(fresh, `${markerLine(102)}\n${"x".repeat(20_000)}\n${markerLine(103)}\n`);
      const log1 = h.logs[1] as string;
      h.arm(
        1,
        `cp -- ${shellQuote(log1)} ${shellQuote(`${log1}.1`)}; : > ${shellQuote(log1)}; cat -- ${shellQuote(fresh)} >> ${shellQuote(log1)}`,
      );
      h.calls();
      const offsets = () => h.monitors.map((m) => h.store.offsets.get(m.name)?.offset ?? 0);
      const before = offsets();
      await h.poll();
      expect(h.fired()).toBe(true);
      // Run 1's read is torn (nothing of it applied); the others' reads are applied.
      const after = offsets();
      expect(after[0]).toBeGreaterThan(before[0] as number);
      expect(after[1]).toBe(before[1]);
      expect(after[2]).toBeGreaterThan(before[2] as number);
      const calls = h.calls();
      // The host's check found a prefix changed, and then checked each run that read alone.
      expect(calls.od).toBe(0);
      expect(calls.cksum).toBe(1 + 3);
      await h.catchUp();
      expect(h.stored(0)).toEqual({ 1: 1 });
      expect(h.stored(1)).toEqual({ 101: 1, 102: 1, 103: 1 });
      expect(h.stored(2)).toEqual({ 201: 1 });
    } finally {
      await h.close();
    }
  });
});

describe("a young log (shorter than the 4 KiB prefix)", () => {
  /** One marker line and some filler: about 200 bytes. */
  const chunk = (id: number) => `${markerLine(id)}\n${stepLine(id)}\n`;

  it("is read on the fast path with its own short prefix check until it passes 4 KiB, then checked in full once, then by the host's check", async () => {
    const h = host(2, { content: chunk(1) });
    try {
      await h.poll();
      h.calls();
      h.logs.forEach((log, i) => {
        appendFileSync(log, chunk(10 + i));
      });
      const young = await h.poll();
      expect(young.map((r) => r.outcome)).toEqual(["ok", "ok"]);
      // One stat for both logs, a tail each, and each one's own prefix check before and after
      // the read: no full check.
      expect(h.calls()).toEqual({ stat: 1, tail: 2, head: 4, cksum: 4, od: 0 });
      // Past the prefix: still a fast read (the offset was below it), then one full check that
      // stores the full prefix, then the host's one check.
      let id = 100;
      while (statSync(h.logs[0] as string).size < 5000) {
        for (const log of h.logs) appendFileSync(log, chunk(id));
        id += 1;
      }
      await h.poll();
      expect(h.calls().od).toBe(0);
      for (const log of h.logs) appendFileSync(log, chunk(900));
      await h.poll();
      expect(h.calls().od).toBe(2);
      for (const m of h.monitors) expect(h.store.offsets.get(m.name)?.prefixLength).toBe(4096);
      for (const log of h.logs) appendFileSync(log, chunk(901));
      await h.poll();
      expect(h.calls()).toEqual({ stat: 1, tail: 2, head: 1, cksum: 1, od: 0 });
      for (const i of [0, 1]) {
        const stored = h.stored(i);
        expect(Object.values(stored).every((n) => n === 1)).toBe(true);
        expect(Object.keys(stored).map(Number)).toEqual(
          expect.arrayContaining([1, 10 + i, 100, id - 1, 900, 901]),
        );
      }
    } finally {
      await h.close();
    }
  });

  it("rewritten in place (emptied and written again, longer) between polls: read again from its start, every line once", async () => {
    const h = host(2, { content: chunk(1) });
    try {
      await h.poll();
      h.logs.forEach((log, i) => {
        appendFileSync(log, chunk(10 + i));
      });
      await h.poll();
      // Run 0's log is emptied and written again (same inode), past the offset: its short
      // prefix no longer matches after the fast read, so that read is dropped and the next one
      // checks the file in full and reads it from its start.
      const log0 = h.logs[0] as string;
      const inode = statSync(log0).ino;
      writeFileSync(log0, `${chunk(50)}${chunk(51)}${chunk(52)}`);
      expect(statSync(log0).ino).toBe(inode);
      appendFileSync(h.logs[1] as string, chunk(21));
      await h.catchUp();
      expect(h.stored(0)).toEqual({ 1: 1, 10: 1, 50: 1, 51: 1, 52: 1 });
      expect(h.stored(1)).toEqual({ 1: 1, 11: 1, 21: 1 });
    } finally {
      await h.close();
    }
  });

  it("rewritten in place to its same size between polls (nothing grew): read again from its start, every line once", async () => {
    const h = host(2, { content: chunk(11) });
    try {
      await h.poll();
      for (const log of h.logs) appendFileSync(log, chunk(12));
      await h.poll();
      // Same inode, same size, so the stat alone says nothing changed: the short prefix check
      // before the fast read tells, and the same poll reads it again from its start.
      const log0 = h.logs[0] as string;
      const before = statSync(log0);
      writeFileSync(log0, `${chunk(51)}${chunk(52)}`);
      expect(statSync(log0).size).toBe(before.size);
      expect(statSync(log0).ino).toBe(before.ino);
      await h.poll();
      expect(h.stored(0)).toEqual({ 11: 1, 12: 1, 51: 1, 52: 1 });
      expect(h.stored(1)).toEqual({ 11: 1, 12: 1 });
    } finally {
      await h.close();
    }
  });

  it("rotated between polls (renamed, a new file in its place): the rest of the old file, then the new one, every line once", async () => {
    const h = host(1, { content: chunk(1) });
    try {
      await h.poll();
      const log = h.logs[0] as string;
      appendFileSync(log, chunk(2));
      await h.poll();
      appendFileSync(log, chunk(3));
      renameSync(log, `${log}.1`);
      writeFileSync(log, chunk(4));
      await h.catchUp();
      expect(h.stored(0)).toEqual({ 1: 1, 2: 1, 3: 1, 4: 1 });
    } finally {
      await h.close();
    }
  });
});
