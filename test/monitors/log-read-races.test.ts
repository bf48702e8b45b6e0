import {
  appendFileSync,
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  statSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ManualClock } from "../../src/core/clock.ts";
import { RunMonitor } from "../../src/monitors/run-monitor.ts";
import { openDatabase } from "../../src/store/database.ts";
import { createMonitorStore, type MonitorStore } from "../../src/store/monitor-store.ts";
import { shellQuote } from "../../src/transport/shell-quote.ts";
import { SshTransport } from "../../src/transport/ssh-transport.ts";
import { stepLine } from "../harness/fake-run-dir.ts";
import { markerLine, ShimmedTransport } from "../harness/shimmed-transport.ts";
import { useSshdRunDirs } from "../harness/sshd-run-dirs.ts";

// A writer racing the monitor's read is a matter of microseconds on a real VM. To land it
// exactly between the probe's look at the log and its read, the scripts run with a `tail` on
// PATH that first does what the test armed (a copytruncate, a rename rotation), then runs the
// real tail: the same interleaving, every time.

const vm = useSshdRunDirs("trainops-races-");

interface Race {
  /** What the test writes first into every log it makes (see LOG_STARTS). */
  header: string;
  monitor: RunMonitor;
  store: MonitorStore;
  logPath: string;
  /** Makes the next `tail` of the log run `action` (sh) first, once. */
  arm(action: string): void;
  /** True once the armed action ran. */
  fired(): boolean;
  /** Times the probe compared the bytes before the offset on the VM (`od`: the full check). */
  fullChecks(): number;
  /** How often each marker is stored. */
  stored(): Map<number, number>;
  /** Polls until the stored offset is at the end of the current log. */
  catchUp(): Promise<void>;
  close(): Promise<void>;
}

/**
 * How the logs of a race start. Past the probe's 4 KiB prefix, a read whose file only grew
 * takes the fast path (one stat, one tail, the prefix checked after the read); a log shorter
 * than that prefix (a run that just started) takes it too, checking its short prefix itself:
 * the same races must hold on both.
 */
const LOG_STARTS: Array<[string, string]> = [
  ["a log shorter than its prefix", ""],
  [
    "a log past its first 4 KiB",
    Array.from({ length: 60 }, (_, i) => `config line ${i}: ${"=".repeat(80)}\n`).join(""),
  ],
];

let counter = 0;
function race(overrides: Record<string, unknown> = {}, header = ""): Race {
  counter += 1;
  const { run, logPath } = vm.runDir(`run${counter}/work`, {
    name: `race${counter}`,
    log: "logs/train.log",
    nvidiaSmi: "true",
    steps: { perEpoch: 4000, epochs: 32 },
    ...overrides,
  });
  const dir = join(vm.root, `run${counter}`);
  const shim = join(dir, "shim");
  mkdirSync(shim);
  const trigger = join(dir, "armed.sh");
  const done = join(dir, "fired");
  // The last argument is the file read (the log by name, or an open /dev/fd of it).
  writeFileSync(
    join(shim, "tail"),
    `#!/bin/sh
for last; do :; done
if [ -e ${shellQuote(trigger)} ] && [ "$(stat -L -c %i -- "$last" 2>/dev/null)" = "$(stat -L -c %i -- ${shellQuote(logPath)})" ]; then
  mv -- ${shellQuote(trigger)} ${shellQuote(`${trigger}.run`)}
  . ${shellQuote(`${trigger}.run`)}
  : > ${shellQuote(done)}
fi
PATH=/usr/bin:/bin exec tail "$@"
`,
  );
  chmodSync(join(shim, "tail"), 0o755);
  const odCalls = join(dir, "od.calls");
  writeFileSync(odCalls, "");
  writeFileSync(
    join(shim, "od"),
    `#!/bin/sh\necho od >> ${shellQuote(odCalls)}\nPATH=/usr/bin:/bin exec od "$@"\n`,
  );
  chmodSync(join(shim, "od"), 0o755);
  const transport = new ShimmedTransport(new SshTransport(run.ssh), shim);
  const store = createMonitorStore(openDatabase(join(dir, "trainops.db")));
  const monitor = new RunMonitor({ run, transport, store, clock: new ManualClock() });
  return {
    header,
    monitor,
    store,
    logPath,
    arm: (action) => writeFileSync(trigger, `${action}\n`),
    fired: () => existsSync(done),
    fullChecks: () => readFileSync(odCalls, "utf8").split("\n").length - 1,
    stored: () => {
      const counts = new Map<number, number>();
      for (const event of store.events.recent(run.name, 1000)) {
        const id = Number(/marker-(\d+)/.exec(event.line)?.[1] ?? Number.NaN);
        if (Number.isFinite(id)) counts.set(id, (counts.get(id) ?? 0) + 1);
      }
      return counts;
    },
    catchUp: async () => {
      for (let i = 0; i < 20; i++) {
        const stat = statSync(logPath);
        const offset = store.offsets.get(run.name);
        if (offset?.inode === String(stat.ino) && offset.offset === stat.size) return;
        await monitor.pollOnce();
      }
      throw new Error("the monitor did not catch up with the log in 20 polls");
    },
    close: () => transport.close(),
  };
}

const COPYTRUNCATE = (log: string) =>
  `cp -- ${shellQuote(log)} ${shellQuote(`${log}.1`)}; : > ${shellQuote(log)}`;

describe.each(LOG_STARTS)("log reads racing a rotation, %s", (_name, header) => {
  it("a copytruncate between the look at the log and its read stores no line twice", async () => {
    const r = race({}, header);
    writeFileSync(
      r.logPath,
      `${r.header}${stepLine(1)}\n${markerLine(1)}\n${stepLine(2)}\n${markerLine(2)}\n`,
    );
    await r.monitor.pollOnce();
    appendFileSync(r.logPath, `${stepLine(3)}\n${markerLine(3)}\n`);
    r.arm(COPYTRUNCATE(r.logPath));
    const checks = r.fullChecks();
    // The probe sees the grown log, then reads it after the copytruncate emptied it.
    await r.monitor.pollOnce();
    expect(r.fired()).toBe(true);
    // A log that only grew is read on the fast path, without the full check.
    expect(r.fullChecks()).toBe(checks);
    appendFileSync(r.logPath, `${stepLine(4)}\n${markerLine(4)}\n`);
    await r.catchUp();
    expect(Object.fromEntries(r.stored())).toEqual({ 1: 1, 2: 1, 3: 1, 4: 1 });
    await r.close();
  });

  it("a follow read racing a copytruncate, then a rename rotation: no line twice", async () => {
    const r = race({}, header);
    writeFileSync(r.logPath, `${r.header}${markerLine(1)}\n${stepLine(1)}\n`);
    await r.monitor.pollOnce();
    appendFileSync(r.logPath, `${markerLine(2)}\n${stepLine(2)}\n`);
    // The copytruncate lands inside the read, and the training writes on at once.
    r.arm(
      `${COPYTRUNCATE(r.logPath)}; printf '%s\\n' ${shellQuote(markerLine(3))} >> ${shellQuote(r.logPath)}`,
    );
    const checks = r.fullChecks();
    // What a follow stream's wake-up runs: the same read as a poll's, outside a poll.
    await r.monitor.readLog();
    expect(r.fired()).toBe(true);
    expect(r.fullChecks()).toBe(checks);
    await r.monitor.pollOnce();
    // The rename rotation right after: the truncated file becomes the rotated one.
    appendFileSync(r.logPath, `${markerLine(4)}\n`);
    renameSync(r.logPath, `${r.logPath}.1`);
    writeFileSync(r.logPath, `${markerLine(5)}\n`);
    await r.catchUp();
    expect(Object.fromEntries(r.stored())).toEqual({ 1: 1, 2: 1, 3: 1, 4: 1, 5: 1 });
    await r.close();
  });

  it("a rename rotation between the look at the log and its read reads each file as itself", async () => {
    const r = race({}, header);
    writeFileSync(r.logPath, `${r.header}${markerLine(1)}\n${stepLine(1)}\n`);
    await r.monitor.pollOnce();
    appendFileSync(r.logPath, `${markerLine(2)}\n`);
    // The new file is longer than the old one, so its bytes past the offset could pass for ours.
    // It starts as the old one did: only its inode tells it apart.
    const newFile = `${r.header}${Array.from({ length: 6 }, (_, i) => `${markerLine(3 + i)}\n`).join("")}`;
    r.arm(
      `mv -- ${shellQuote(r.logPath)} ${shellQuote(`${r.logPath}.1`)}; printf '%s' ${shellQuote(newFile)} > ${shellQuote(r.logPath)}`,
    );
    const checks = r.fullChecks();
    await r.monitor.pollOnce();
    expect(r.fired()).toBe(true);
    expect(r.fullChecks()).toBe(checks);
    await r.catchUp();
    expect(Object.fromEntries(r.stored())).toEqual({
      1: 1,
      2: 1,
      3: 1,
      4: 1,
      5: 1,
      6: 1,
      7: 1,
      8: 1,
    });
    await r.close();
  });
});

describe("log reads racing a rotation, past the prefix", () => {
  it("a copytruncate and new lines past the offset during the read, with a repetitive anchor: no line twice", async () => {
    const r = race({ maxReadBytes: 4096, backfillBytes: 1_000_000 });
    // The read stops inside a long run of one byte: the bytes before the offset tell nothing.
    writeFileSync(r.logPath, `${markerLine(1)}\n${"x".repeat(20_000)}\n${markerLine(2)}\n`);
    await r.monitor.pollOnce();
    expect(r.store.offsets.get(r.monitor.name)?.offset).toBe(4096);
    // During the next read the log is copied, emptied and written again, past the offset,
    // with the same run of bytes where the old one ended.
    const fresh = join(r.logPath, "..", "fresh.log");
    const lines = Array.from({ length: 60 }, (_, i) => `${stepLine(10 + i)}\n`).join("");
    writeFileSync(
      fresh,
      `${markerLine(3)}\n${"x".repeat(4100)}\n${markerLine(4)}\n${lines}${markerLine(5)}\n`,
    );
    r.arm(`${COPYTRUNCATE(r.logPath)}; cat -- ${shellQuote(fresh)} >> ${shellQuote(r.logPath)}`);
    const checks = r.fullChecks();
    await r.monitor.pollOnce();
    expect(r.fired()).toBe(true);
    // Read on the fast path: only the prefix checked after the read tells the rewrite.
    expect(r.fullChecks()).toBe(checks);
    await r.catchUp();
    expect(Object.fromEntries(r.stored())).toEqual({ 1: 1, 2: 1, 3: 1, 4: 1, 5: 1 });
    await r.close();
  });

  it("the rest of a copied log, read over several polls, then copied over again: the new copy is read", async () => {
    const r = race({ maxReadBytes: 4096 });
    const rotated = `${r.logPath}.1`;
    // An older rotation is there from the start (copytruncate writes into it, same inode).
    writeFileSync(rotated, "older rotation\n");
    writeFileSync(r.logPath, `${stepLine(1)}\n`);
    await r.monitor.pollOnce();
    const filler = Array.from({ length: 200 }, (_, i) => `${stepLine(2 + i)}\n`).join("");
    appendFileSync(r.logPath, `${filler}${markerLine(1)}\n`);
    writeFileSync(rotated, readFileSync(r.logPath));
    truncateSync(r.logPath, 0);
    // The copy is longer than one read: its rest is read over several polls.
    await r.monitor.pollOnce();
    expect(r.store.offsets.get(r.monitor.name)?.offset).toBeLessThan(statSync(rotated).size);
    // Before the rest is complete, the log is copied over it again (its first copy is lost).
    appendFileSync(r.logPath, `${stepLine(300)}\n${markerLine(2)}\n`);
    writeFileSync(rotated, readFileSync(r.logPath));
    truncateSync(r.logPath, 0);
    appendFileSync(r.logPath, `${markerLine(3)}\n`);
    await r.catchUp();
    const stored = r.stored();
    expect({ 2: stored.get(2), 3: stored.get(3) }).toEqual({ 2: 1, 3: 1 });
    expect(stored.get(1) ?? 0).toBeLessThanOrEqual(1);
    await r.close();
  });
});
