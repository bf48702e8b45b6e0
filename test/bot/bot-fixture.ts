import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterEach, beforeEach } from "vitest";
import { parseDocument } from "yaml";
import { firingMessage } from "../../src/alerts/alert-message.ts";
import { ConsoleSession } from "../../src/bot/console/console-session.ts";
import { createBotCore } from "../../src/bot/core/bot-core.ts";
import type { BotCoreOptions } from "../../src/bot/core/bot-core-options.ts";
import type { Invoker, Responder } from "../../src/bot/core/command-request.ts";
import type { AlertingPort, FiringAlertView, SilenceView } from "../../src/bot/core/ports.ts";
import { chartRenderer } from "../../src/charts/chart-renderer.ts";
import { type Config, configSchema } from "../../src/config/schema.ts";
import { ManualClock } from "../../src/core/clock.ts";
import type { Message } from "../../src/message/message.ts";
import type { RunSample } from "../../src/model/monitoring.ts";
import { auditArgs } from "../../src/ops/apply.ts";
import { parseChangePreview } from "../../src/ops/operations/index.ts";
import {
  type Actor,
  type ChangePreview,
  type OperationInput,
  type OperationKind,
  OperationRefusedError,
  type OperationResult,
  type PlanView,
  type ProgressCallback,
  type RunOperations,
} from "../../src/ops/run-operations.ts";
import { AuditRepo } from "../../src/store/audit-repo.ts";
import { ConfirmationsRepo } from "../../src/store/confirmations-repo.ts";
import { type Db, openDatabase } from "../../src/store/database.ts";
import { EventsRepo } from "../../src/store/events-repo.ts";
import { SamplesRepo } from "../../src/store/samples-repo.ts";
import { gpuSample, runSample } from "../harness/sample-factory.ts";

/**
 * A RunOperations double over a real YAML file: previews read it, apply rewrites it with the
 * yaml Document API and refuses when the file no longer matches the preview.
 */
export class YamlFileOperations implements RunOperations {
  applied: Array<{ preview: ChangePreview; actor: Actor }> = [];
  /** Resolves the next apply only when released (to observe in-flight states). */
  gate: Promise<void> | null = null;
  /** Set to report the change as applied but already failing (an OOM right after the restart). */
  warning: string | undefined;

  /**
   * `audit`: where applies are audited, as the real operations audit themselves (who, outcome,
   * how long); omitted, nothing is audited.
   */
  constructor(
    readonly file: string,
    private readonly audit: AuditRepo | null = null,
  ) {}

  private read(): { workers: number; batch: number } {
    const doc = parseDocument(readFileSync(this.file, "utf8"));
    return {
      workers: Number(doc.getIn(["training", "workers"])),
      batch: Number(doc.getIn(["training", "train_batch_size"])),
    };
  }

  private change(
    run: string,
    kind: ChangePreview["kind"],
    title: string,
    after: { workers?: number; batch?: number },
  ): ChangePreview {
    const now = this.read();
    const changes = [];
    if (after.workers !== undefined && after.workers !== now.workers)
      changes.push({ key: "training.workers", before: now.workers, after: after.workers });
    if (after.batch !== undefined && after.batch !== now.batch)
      changes.push({ key: "training.train_batch_size", before: now.batch, after: after.batch });
    const common = {
      run,
      title,
      changes,
      diff: changes.map((c) => `${c.key}: ${c.before} → ${c.after}`),
      restarts: true,
    };
    if (kind === "next-phase") {
      return {
        ...common,
        kind,
        risk: "low",
        expected: ["Step time ~9-10 s (vs ~18 s)"],
        phase: { index: 1, name: "Test 2 workers" },
      };
    }
    if (kind === "rollback") return { ...common, kind, phase: { index: 0, name: "baseline" } };
    return { ...common, kind };
  }

  async preview(kind: OperationKind, run: string, input: OperationInput = {}) {
    if (kind === "next-phase") return this.previewNextPhase(run);
    if (kind === "set") return this.previewSet(run, input);
    if (kind === "rollback") return this.previewRollback(run);
    return this.previewRestart(run);
  }

  async previewNextPhase(run: string): Promise<ChangePreview> {
    return this.change(run, "next-phase", "Phase 1: Test 2 workers", { workers: 2, batch: 1 });
  }
  async previewSet(
    run: string,
    values: { workers?: number; batch?: number },
  ): Promise<ChangePreview> {
    return this.change(
      run,
      "set",
      `Set ${Object.entries(values)
        .map(([k, v]) => `${k} ${v}`)
        .join(", ")}`,
      values,
    );
  }
  async previewRollback(run: string): Promise<ChangePreview> {
    return this.change(run, "rollback", "Roll back to the baseline", { workers: 1, batch: 1 });
  }
  async previewRestart(run: string): Promise<ChangePreview> {
    return this.change(run, "restart", "Restart training", {});
  }
  async apply(
    stored: unknown,
    actor: Actor,
    onProgress?: ProgressCallback,
  ): Promise<OperationResult> {
    const preview = parseChangePreview(stored);
    try {
      const result = await this.applyParsed(preview, actor, onProgress);
      this.record(preview, actor, result.ok ? "applied" : "failed", result.summary);
      return result;
    } catch (error) {
      this.record(preview, actor, "refused", (error as Error).message);
      throw error;
    }
  }

  private record(
    preview: ChangePreview,
    actor: Actor,
    outcome: "applied" | "failed" | "refused",
    detail: string,
  ): void {
    this.audit?.record({
      at: Date.now(),
      platform: actor.platform,
      userId: actor.userId,
      userName: actor.name,
      channelId: actor.channelId,
      run: preview.run,
      command: preview.kind,
      args: auditArgs(preview),
      outcome,
      detail,
    });
  }

  private async applyParsed(
    preview: ChangePreview,
    actor: Actor,
    onProgress?: ProgressCallback,
  ): Promise<OperationResult> {
    if (this.gate) await this.gate;
    const doc = parseDocument(readFileSync(this.file, "utf8"));
    for (const c of preview.changes) {
      if (doc.getIn(c.key.split(".")) !== c.before)
        throw new OperationRefusedError(`${c.key} is no longer ${c.before}; preview again`);
    }
    onProgress?.("Config written, backup kept");
    for (const c of preview.changes) doc.setIn(c.key.split("."), c.after);
    writeFileSync(this.file, doc.toString());
    this.applied.push({ preview, actor });
    onProgress?.("Restarting training");
    return {
      ok: true,
      summary: `${preview.title} applied; training restarted`,
      details: [],
      warning: this.warning,
    };
  }
  async plan(run: string): Promise<PlanView> {
    const cfg = this.read();
    return {
      run,
      planName: "safe-optimization",
      current: { index: 1, name: "Phase 1: Test 2 workers", state: "evaluating" },
      phases: [
        {
          index: 0,
          name: "baseline",
          risk: "-",
          state: "passed",
          workers: 1,
          batch: 1,
          stepTimeSeconds: 18.1,
          epochTimeSeconds: 72_400,
          totalTimeSeconds: 2_316_800,
          speedup: 1,
        },
        {
          index: 1,
          name: "Test 2 workers",
          risk: "low",
          state: "evaluating",
          workers: cfg.workers,
          batch: cfg.batch,
          stepTimeSeconds: 9.6,
          epochTimeSeconds: 38_400,
          totalTimeSeconds: 1_228_800,
          speedup: 1.9,
        },
        {
          index: 2,
          name: "Test batch size 2",
          risk: "low",
          state: "pending",
          workers: null,
          batch: null,
          stepTimeSeconds: null,
          epochTimeSeconds: null,
          totalTimeSeconds: null,
          speedup: null,
        },
      ],
      criteria: ["143/200 steps", "VRAM peak 77.4/80 GiB ✓", "step time 9.6 s vs 18.1 s ✓"],
    };
  }
}

/** An in-memory alerting engine for the chat's mute / unmute / status. */
export class MemoryAlerting implements AlertingPort {
  firing: FiringAlertView[] = [];
  silences: SilenceView[] = [];
  constructor(private readonly clock: ManualClock) {}
  listFiring(run: string): FiringAlertView[] {
    return run ? this.firing : [];
  }
  isFiring(run: string, rule: string): boolean {
    return this.listFiring(run).some((a) => a.rule === rule);
  }
  listSilences(run: string): SilenceView[] {
    return this.silences.filter((s) => s.run === run && s.until > this.clock.now());
  }
  silence(input: Parameters<AlertingPort["silence"]>[0]): SilenceView {
    const s = {
      id: `s${this.silences.length + 1}`,
      run: input.run,
      rule: input.rule ?? null,
      until: this.clock.now() + input.durationMs,
      reason: input.reason,
      createdBy: input.createdBy,
    };
    this.silences.push(s);
    return s;
  }
  unsilence(input: { run: string; rule?: string }): number {
    const before = this.silences.length;
    this.silences = this.silences.filter(
      (s) => !(s.run === input.run && (input.rule === undefined || s.rule === input.rule)),
    );
    return before - this.silences.length;
  }
}

/** A responder that keeps what was sent. */
export class RecordingResponder implements Responder {
  messages: Message[] = [];
  async followUp(message: Message): Promise<void> {
    this.messages.push(message);
  }
}

export const CONSOLE: Invoker = {
  platform: "console",
  userId: "ops",
  userName: "ops",
  roles: [],
  channelId: "console",
};
export const DISCORD_OPERATOR: Invoker = {
  platform: "discord",
  userId: "111111",
  userName: "alice",
  roles: [],
  channelId: "900",
};
export const DISCORD_ROLE_OPERATOR: Invoker = {
  platform: "discord",
  userId: "222222",
  userName: "bob",
  roles: ["777"],
  channelId: "900",
};
export const DISCORD_VIEWER: Invoker = {
  platform: "discord",
  userId: "333333",
  userName: "carol",
  roles: [],
  channelId: "900",
};
export const SLACK_OPERATOR: Invoker = {
  platform: "slack",
  userId: "U111",
  userName: "dave",
  roles: [],
  channelId: "C1",
};
export const SLACK_GROUP_OPERATOR: Invoker = {
  platform: "slack",
  userId: "U222",
  userName: "erin",
  roles: ["S9"],
  channelId: "C1",
};

export const TRAIN_YAML =
  "# experiment\ntraining:\n  workers: 1 # data loaders\n  train_batch_size: 1\n";

export interface BotFixture {
  dir: string;
  db: Db;
  clock: ManualClock;
  config: Config;
  ops: YamlFileOperations;
  alerts: MemoryAlerting;
  samples: SamplesRepo;
  events: EventsRepo;
  audit: AuditRepo;
  confirmations: ConfirmationsRepo;
  logText: { value: string };
  core: ReturnType<typeof createBotCore>;
  close(): void;
}

/** A bot over a real SQLite file in a temp dir, two runs, a YAML-file operations double. */
export function createBotFixture(
  overrides: Partial<BotCoreOptions> = {},
  runs = ["exp001", "exp002"],
): BotFixture {
  const dir = mkdtempSync(join(tmpdir(), "trainops-bot-"));
  const db = openDatabase(join(dir, "store.db"));
  const clock = new ManualClock(Date.UTC(2026, 2, 1, 12, 0, 0));
  const config = configSchema.parse({
    runs: runs.map((name) => ({
      name,
      ssh: "local",
      workdir: dir,
      log: "train.log",
      plan: "configs/plans/safe-optimization.yaml",
      steps: { perEpoch: 4000, epochs: 32 },
      limits: { gpuMemoryGiB: 80, hostMemoryGiB: 100 },
    })),
    discord: { operators: { users: ["111111"], roles: ["777"] }, allowedChannels: ["900", "901"] },
    slack: { operators: { users: ["U111"], userGroups: ["S9"] } },
  });
  const file = join(dir, "exp001_full.yaml");
  writeFileSync(file, TRAIN_YAML);
  const audit = new AuditRepo(db);
  const ops = new YamlFileOperations(file, audit);
  const alerts = new MemoryAlerting(clock);
  const samples = new SamplesRepo(db);
  const events = new EventsRepo(db);
  const confirmations = new ConfirmationsRepo(db);
  const logText = { value: "" };
  let ids = 0;
  const core = createBotCore({
    config,
    db: { samples, events, audit, confirmations },
    operations: ops,
    alerts,
    logs: { tail: async (_run, lines) => logText.value.split("\n").slice(-lines).join("\n") },
    clock,
    charts: chartRenderer(),
    newId: () => `c${++ids}`,
    ...overrides,
  });
  return {
    dir,
    db,
    clock,
    config,
    ops,
    alerts,
    samples,
    events,
    audit,
    confirmations,
    logText,
    core,
    close() {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** What {@link useBotFixture} returns: the running test's fixture, read through. */
export type PerTestBotFixture = BotFixture & {
  /** Closes the running test's fixture and opens one with these options for the rest of it. */
  reopen(overrides?: Partial<BotCoreOptions>, runs?: string[]): void;
};

/**
 * A fresh {@link createBotFixture} for each test of the calling file (or describe block),
 * closed after the test. The object returned reads through to the running test's fixture, so
 * a file declares it once (`const f = useBotFixture()`) and each test sees its own store.
 */
export function useBotFixture(
  overrides: Partial<BotCoreOptions> = {},
  runs?: string[],
): PerTestBotFixture {
  let current: BotFixture | undefined;
  const running = (): BotFixture => {
    if (!current) throw new Error("useBotFixture: its fixture exists only while a test runs");
    return current;
  };
  beforeEach(() => {
    current = createBotFixture(overrides, runs);
  });
  afterEach(() => {
    current?.close();
    current = undefined;
  });
  const reopen = (again: Partial<BotCoreOptions> = {}, againRuns = runs) => {
    running().close();
    current = createBotFixture(again, againRuns);
  };
  return new Proxy({} as PerTestBotFixture, {
    get: (_, key) => (key === "reopen" ? reopen : Reflect.get(running(), key)),
  });
}

/** A console session running over in-memory streams, as {@link consoleOver} starts it. */
export interface StreamConsole {
  session: ConsoleSession;
  /** What the person types; `end(lines)` types the last lines and closes it. */
  input: PassThrough;
  /** Settles when the session has run every line and its input ended. */
  finished: Promise<void>;
  /** All the session printed so far. */
  text(): string;
}

/**
 * The console front end of `f`'s bot, running over in-memory streams (charts saved under the
 * fixture's folder): a test types through `input` and reads `text()`.
 */
export function consoleOver(f: BotFixture, invoker?: Invoker): StreamConsole {
  const input = new PassThrough();
  const output = new PassThrough();
  let printed = "";
  output.on("data", (chunk: Buffer) => {
    printed += chunk.toString();
  });
  const session = new ConsoleSession({
    core: f.core,
    input,
    output,
    runNames: f.config.runs.map((r) => r.name),
    chartDir: join(f.dir, "charts"),
    ...(invoker ? { invoker } : {}),
  });
  return { session, input, finished: session.run(), text: () => printed };
}

/** A sample like the plan's: step 549, 183 steps/h, 77 GiB of 80, GPU idle. */
export function planSample(run: string, at: number, overrides: Partial<RunSample> = {}): RunSample {
  return runSample({
    run,
    at,
    totalSteps: 4000,
    loss: 0.42,
    stepTimeSeconds: 19.7,
    stepsPerHour: 183,
    gpus: [
      gpuSample({
        name: "A100 80GB",
        memoryUsedMiB: 77.4 * 1024,
        utilizationPercent: 0,
        temperatureC: 50,
        powerW: 90,
      }),
    ],
    diskFreeBytes: 500 * 1024 ** 3,
    ...overrides,
  });
}

/** A request from `invoker`. */
export function req(
  subcommand: string,
  args: Record<string, string | undefined> = {},
  invoker: Invoker = CONSOLE,
) {
  return { subcommand, args, invoker };
}

/** All text of a message, for `toContain` checks. */
export function textOf(message: Message): string {
  return [
    message.title,
    ...(message.lines ?? []),
    ...(message.fields ?? []).map((f) => `${f.name}: ${f.value}`),
    ...(message.progress ?? []).map((p) => `${p.label} ${p.caption ?? ""}`),
    ...(message.table
      ? [message.table.columns.join(" | "), ...message.table.rows.map((r) => r.join(" | "))]
      : []),
    message.code ?? "",
    message.footer ?? "",
  ].join("\n");
}

/** A CUDA OOM alert on `run` as the alerting engine words it, firing since `since`. */
export function oomAlert(run: string, since: number): Message {
  return firingMessage(
    {
      run,
      rule: "cuda_oom",
      label: "CUDA OOM",
      phase: null,
      severity: "critical",
      since,
      mentions: { users: [], roles: [] },
      dedupeKey: `${run}/cuda_oom/1`,
      node: "localhost",
      repeatIntervalMs: 0,
    },
    { headline: "CUDA out of memory", lines: ["Lower the batch size."] },
  );
}
