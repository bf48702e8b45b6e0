import { type ChildProcess, spawn } from "node:child_process";
import {
  appendFileSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  renameSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { build } from "esbuild";
import { stepLine } from "./fake-run-dir.ts";
import type { SshdHarness } from "./sshd.ts";

const CHILD = fileURLToPath(new URL("./monitor-child.ts", import.meta.url));
/** Inside the checkout (and ignored by git), so the bundle's packages resolve to its node_modules. */
const BUNDLES = fileURLToPath(new URL("../../.tmp/", import.meta.url));

/**
 * Bundles the monitor child into one file: a scenario starts it after every kill, and loading
 * one file costs a fraction of transpiling its hundreds of sources at each start.
 */
async function bundleMonitorChild(): Promise<string> {
  mkdirSync(BUNDLES, { recursive: true });
  const outfile = join(BUNDLES, `monitor-child-${process.pid}-${Date.now()}.mjs`);
  await build({
    entryPoints: [CHILD],
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    packages: "external",
    logLevel: "warning",
  });
  return outfile;
}

/** How a {@link runLogChaos} scenario is drawn. */
export interface LogChaosOptions {
  /** Seed of the pseudo-random draw: the same seed writes the same bytes and kills alike. */
  seed: number;
  /** Writer operations (appends, rotations, truncations, rewrites). */
  operations: number;
  /** SIGKILLs of the monitor process at random operations. */
  kills: number;
  sshd: SshdHarness;
  /** An empty folder of the test's own. */
  dir: string;
  /** Run the follow stream as well as the polls. */
  follow: boolean;
}

/** What the store holds after the scenario, against what was written. */
export interface LogChaosResult {
  /** Marker lines written. */
  written: number;
  /** Markers that were readable until the end (in the log or its `.1`): each must be stored once. */
  required: number;
  /** Required markers stored zero times. */
  missed: number[];
  /** Markers stored more than once (required or not). */
  doubled: number[];
  /** Markers destroyed before the monitor could have read them (rewritten, rotated twice) and stored once. */
  lostButStored: number;
  /** Times a stored step was not above the step stored before it. */
  stepsBackwards: number;
  /** Monitor processes killed with SIGKILL. */
  killed: number;
  /** Operations in order, each with the next marker's number, to tell what a failure followed. */
  trace: string[];
  /** Of each writer operation, how many were done. */
  operations: Record<string, number>;
}

/** The stored read position of the chaos run, or null before the first poll. */
function readOffset(dbPath: string): { inode: string; offset: number } | null {
  if (!existsSync(dbPath)) return null;
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    const row = db.prepare("SELECT inode, offset FROM log_offsets WHERE run = ?").get("chaos") as
      | { inode: string; offset: number }
      | undefined;
    return row ?? null;
  } catch {
    // Not migrated yet.
    return null;
  } finally {
    db.close();
  }
}

function countPolls(dbPath: string): number {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    return (db.prepare("SELECT count(*) AS n FROM polls").get() as { n: number }).n;
  } finally {
    db.close();
  }
}

async function waitFor(done: () => boolean, message: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(message);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** mulberry32: a small, good enough PRNG with a 32-bit seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function markerLine(id: number): string {
  return `2026-11-28 10:00:00,000 - __main__ - ERROR - Out of memory: Killed process ${id} (python3) marker-${id}`;
}

const MARKER = /marker-(\d+)/;

/**
 * Writes a training log the way real set-ups mangle one (appends, partial lines, CRLF, invalid
 * UTF-8, huge lines, rename rotations, copytruncates, rewrites past the offset) while a monitor
 * process polls and follows it over SSH and is SIGKILLed and restarted at random moments; then
 * lets the last monitor catch up and counts, from the store, how often each marker line was
 * stored. Markers whose file was destroyed before any reader could see it may be missing, never
 * doubled.
 */
export async function runLogChaos(options: LogChaosOptions): Promise<LogChaosResult> {
  const bundle = await bundleMonitorChild();
  try {
    return await scenario(options, bundle);
  } finally {
    rmSync(bundle, { force: true });
  }
}

async function scenario(options: LogChaosOptions, bundle: string): Promise<LogChaosResult> {
  const random = prng(options.seed);
  const pick = (n: number) => Math.floor(random() * n);
  const workdir = join(options.dir, "run");
  mkdirSync(join(workdir, "logs"), { recursive: true });
  const logPath = join(workdir, "logs", "train.log");
  const rotatedPath = `${logPath}.1`;
  writeFileSync(logPath, "");
  const dbPath = join(options.dir, "trainops.db");
  const run = {
    name: "chaos",
    ssh: options.sshd.runConfigSsh(),
    workdir,
    log: "logs/train.log",
    nvidiaSmi: "true",
    follow: options.follow,
    maxReadBytes: 64 * 1024,
    steps: { perEpoch: 4000, epochs: 32 },
  };

  let child: ChildProcess | null = null;
  const startChild = () => {
    child = spawn(process.execPath, [bundle, dbPath, JSON.stringify(run)], {
      stdio: ["ignore", "ignore", "inherit"],
    });
  };
  const killChild = async () => {
    const current = child as ChildProcess | null;
    child = null;
    if (!current || current.exitCode !== null || current.signalCode !== null) return;
    const gone = new Promise((resolve) => current.once("exit", resolve));
    current.kill("SIGKILL");
    await gone;
  };

  let step = 0;
  let nextMarker = 1;
  let current: number[] = [];
  let rotated: number[] = [];
  const lost = new Set<number>();
  const operations: Record<string, number> = {};
  const trace: string[] = [];
  const count = (name: string) => {
    operations[name] = (operations[name] ?? 0) + 1;
    trace.push(`${name} ${nextMarker}`);
  };
  const filler = (): Buffer => {
    step += 1;
    const kind = pick(10);
    if (kind === 0) return Buffer.from(`${stepLine(step)}\r\n`);
    if (kind === 1)
      return Buffer.concat([
        Buffer.from([0xff, 0xfe, 0x80, 0x20]),
        Buffer.from(`${stepLine(step)}\n`),
      ]);
    return Buffer.from(`${stepLine(step)}\n`);
  };
  const marker = (): Buffer => {
    const id = nextMarker++;
    current.push(id);
    const ending = pick(3) === 0 ? "\r\n" : "\n";
    const prefix = pick(4) === 0 ? Buffer.from([0xc3, 0x28, 0x20]) : Buffer.alloc(0);
    return Buffer.concat([prefix, Buffer.from(`${markerLine(id)}${ending}`)]);
  };
  const pause = () => new Promise((resolve) => setTimeout(resolve, pick(80)));

  const killAt = new Set<number>();
  while (killAt.size < options.kills) killAt.add(1 + pick(options.operations - 1));
  let killed = 0;
  startChild();
  // The first poll attaches to the (empty) log; what comes after is what must be read.
  await waitFor(() => readOffset(dbPath) !== null, "the monitor did not attach within 60 s");
  for (let i = 0; i < options.operations; i++) {
    if (killAt.has(i)) {
      await killChild();
      trace.push(`kill ${nextMarker}`);
      killed += 1;
      // Some operations happen while no monitor runs (a rotation during a restart).
      const down = pick(4);
      for (let j = 0; j < down; j++) await operate();
      const before = countPolls(dbPath);
      startChild();
      // Each monitor reads before it can be killed again: a kill during start-up tests nothing.
      await waitFor(
        () => countPolls(dbPath) > before,
        "the restarted monitor did not poll within 60 s",
      );
    }
    await operate();
    await pause();
  }

  async function operate(): Promise<void> {
    const roll = pick(100);
    if (roll < 55) {
      count("append");
      const parts: Buffer[] = [];
      for (let n = 1 + pick(6); n > 0; n--) parts.push(pick(3) === 0 ? marker() : filler());
      appendFileSync(logPath, Buffer.concat(parts));
    } else if (roll < 72) {
      count("partial line");
      const line = marker();
      const cut = 1 + pick(line.length - 1);
      appendFileSync(logPath, line.subarray(0, cut));
      await pause();
      appendFileSync(logPath, line.subarray(cut));
    } else if (roll < 80) {
      count("huge line");
      appendFileSync(logPath, `${"x".repeat(100_000 + pick(200_000))}\n`);
      appendFileSync(logPath, marker());
    } else if (roll < 87) {
      count("rename rotation");
      for (const id of rotated) lost.add(id);
      renameSync(logPath, rotatedPath);
      rotated = current;
      current = [];
      writeFileSync(logPath, "");
    } else if (roll < 94) {
      count("copytruncate");
      for (const id of rotated) lost.add(id);
      copyFileSync(logPath, rotatedPath);
      truncateSync(logPath, 0);
      rotated = current;
      current = [];
    } else {
      count("rewrite past offset");
      for (const id of current) lost.add(id);
      current = [];
      const oldSize = statSync(logPath).size;
      // New content longer than the old, so the size alone does not tell.
      const parts: Buffer[] = [Buffer.from(`${"y".repeat(oldSize + 64)}\n`)];
      for (let n = 1 + pick(4); n > 0; n--) parts.push(pick(2) === 0 ? marker() : filler());
      writeFileSync(logPath, Buffer.concat(parts));
    }
  }

  // The last monitor catches up: the barrier is the stored offset reaching the file's end.
  if (!child) startChild();
  const finalSize = statSync(logPath).size;
  const finalInode = String(statSync(logPath).ino);
  try {
    await waitFor(() => {
      const row = readOffset(dbPath);
      return row !== null && row.inode === finalInode && row.offset === finalSize;
    }, "the monitor did not catch up with the log within 60 s");
  } finally {
    await killChild();
  }

  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  const lines = db
    .prepare("SELECT line FROM events WHERE run = ? ORDER BY id")
    .all("chaos") as Array<{ line: string }>;
  const steps = db
    .prepare("SELECT step FROM steps WHERE run = ? ORDER BY rowid")
    .all("chaos") as Array<{ step: number }>;
  db.close();
  const stored = new Map<number, number>();
  for (const { line } of lines) {
    const id = Number(MARKER.exec(line)?.[1] ?? Number.NaN);
    if (Number.isFinite(id)) stored.set(id, (stored.get(id) ?? 0) + 1);
  }
  const written = nextMarker - 1;
  const missed: number[] = [];
  const doubled: number[] = [];
  let lostButStored = 0;
  for (let id = 1; id <= written; id++) {
    const n = stored.get(id) ?? 0;
    if (n > 1) doubled.push(id);
    if (lost.has(id)) lostButStored += n === 1 ? 1 : 0;
    else if (n === 0) missed.push(id);
  }
  let stepsBackwards = 0;
  for (let i = 1; i < steps.length; i++) {
    if ((steps[i]?.step ?? 0) <= (steps[i - 1]?.step ?? 0)) stepsBackwards += 1;
  }
  return {
    written,
    required: written - lost.size,
    missed,
    doubled,
    lostButStored,
    stepsBackwards,
    killed,
    operations,
    trace,
  };
}
