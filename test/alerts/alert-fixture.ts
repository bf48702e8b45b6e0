import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Alerting, createAlerting } from "../../src/alerts/create-alerting.ts";
import type { SenderOptions } from "../../src/alerts/sender.ts";
import type { AlertSink, DeliveryResult } from "../../src/alerts/sinks/alert-sink.ts";
import { type Config, configSchema } from "../../src/config/schema.ts";
import { ManualClock } from "../../src/core/clock.ts";
import type { Message } from "../../src/message/message.ts";
import type { ClassifiedEvent, RunSample } from "../../src/model/monitoring.ts";
import { openDatabase } from "../../src/store/database.ts";
import { EventsRepo } from "../../src/store/events-repo.ts";
import { ExpectedStopsRepo } from "../../src/store/expected-stops-repo.ts";
import { PollsRepo } from "../../src/store/polls-repo.ts";
import { SamplesRepo } from "../../src/store/samples-repo.ts";
import { runSample } from "../harness/sample-factory.ts";

export const GIB = 1024 ** 3;
export const MIN = 60_000;
export const T0 = Date.UTC(2026, 10, 28, 12, 0, 0);

/** A sink that keeps what it was given. */
export class MemorySink implements AlertSink {
  readonly messages: Message[] = [];
  readonly keys: string[] = [];
  constructor(readonly name = "memory") {}
  async deliver(message: Message, key: string): Promise<DeliveryResult> {
    this.messages.push(message);
    this.keys.push(key);
    return { ok: true };
  }
}

/** A sink that fails its first `failures` deliveries (the platform down, 503), then keeps them. */
export class FlakySink extends MemorySink {
  constructor(
    name: string,
    private failures: number,
  ) {
    super(name);
  }
  override async deliver(message: Message, key: string): Promise<DeliveryResult> {
    if (this.failures > 0) {
      this.failures--;
      return { ok: false, retryable: true, error: "503" };
    }
    return super.deliver(message, key);
  }
}

/** The user's run as the plan describes it (with `exp001` over it), and a second run. */
export function testRuns(exp001: Record<string, unknown> = {}): Record<string, unknown>[] {
  return [
    {
      name: "exp001",
      ssh: "local",
      workdir: "/tmp/work",
      log: "train.log",
      steps: { perEpoch: 4000, epochs: 32 },
      limits: { gpuMemoryGiB: 80, hostMemoryGiB: 100 },
      ...exp001,
    },
    { name: "exp002", ssh: "local", workdir: "/tmp/work2", log: "train.log" },
  ];
}

/** The user's runs (see testRuns) with `alerts` over the defaults, and `extra` top-level keys. */
export function testConfig(
  alerts: Record<string, unknown> = {},
  extra: Record<string, unknown> = {},
): Config {
  return configSchema.parse({
    runs: testRuns(),
    alerts: { console: false, ...alerts },
    ...extra,
  });
}

/** A healthy sample of exp001 at `at`, with overrides. */
export function sample(at: number, over: Partial<RunSample> = {}): RunSample {
  return runSample({ ...over, at });
}

/** A temp store, repos to feed it, a manual clock and an alerting over it. */
export interface AlertHarness {
  dir: string;
  path: string;
  clock: ManualClock;
  sink: MemorySink;
  alerting: Alerting;
  samples: SamplesRepo;
  events: EventsRepo;
  polls: PollsRepo;
  /** Where an operation records that it stops training on purpose (read by the rules). */
  expectedStops: ExpectedStopsRepo;
  close(): void;
  /** Reopens the same file with a fresh engine (a restart). */
  restart(): void;
  addEvent(
    at: number,
    event: Omit<ClassifiedEvent, "lineNumber" | "source"> & Partial<ClassifiedEvent>,
  ): void;
  phase: { value: string | null };
}

export function alertHarness(
  options: {
    config?: Config;
    sinks?: AlertSink[];
    prepare?: SenderOptions["prepare"];
    /** Start of the manual clock (default T0); real services that expire alerts need now. */
    startAt?: number;
  } = {},
): AlertHarness {
  const dir = mkdtempSync(join(tmpdir(), "trainops-alerts-"));
  const path = join(dir, "trainops.db");
  const clock = new ManualClock(options.startAt ?? T0);
  const sink = new MemorySink();
  const phase = { value: null as string | null };
  const config = options.config ?? testConfig();
  let db = openDatabase(path);
  const build = () =>
    createAlerting({
      db,
      config,
      clock,
      sinks: options.sinks ?? [sink],
      phaseOf: () => phase.value,
      retry: { baseMs: 1000, maxMs: 60_000 },
      ...(options.prepare ? { prepare: options.prepare } : {}),
    });
  const h: AlertHarness = {
    dir,
    path,
    clock,
    sink,
    phase,
    alerting: build(),
    samples: new SamplesRepo(db),
    events: new EventsRepo(db),
    polls: new PollsRepo(db),
    expectedStops: new ExpectedStopsRepo(db),
    close() {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
    restart() {
      db.close();
      db = openDatabase(path);
      h.samples = new SamplesRepo(db);
      h.events = new EventsRepo(db);
      h.polls = new PollsRepo(db);
      h.expectedStops = new ExpectedStopsRepo(db);
      h.alerting = build();
    },
    addEvent(at, event) {
      h.events.insert("exp001", at, { lineNumber: null, source: "log", ...event });
    },
  };
  return h;
}

/** Inserts one sample per minute over [from, to] built by `make(at, i)`. */
export function fillSamples(
  h: AlertHarness,
  from: number,
  to: number,
  make: (at: number, i: number) => RunSample,
  every = MIN,
): void {
  let i = 0;
  for (let at = from; at <= to; at += every) h.samples.insert(make(at, i++));
}

/**
 * exp001's history before a death in its first steps: the process not running from 30 to 20
 * minutes before T0 (step 0), then started, nobody asking, and alive at steps 1 to 3 from 19 to
 * 17 minutes before T0.
 */
export function freshStartSamples(h: AlertHarness): void {
  fillSamples(h, T0 - 30 * MIN, T0 - 20 * MIN, (at) => sample(at, { alive: false, step: 0 }));
  fillSamples(h, T0 - 19 * MIN, T0 - 17 * MIN, (at, i) => sample(at, { step: 1 + i }));
}

/**
 * A CUDA OOM on exp001 now, after a healthy sample a minute ago, evaluated: one alert is owed
 * to every sink of `h`.
 */
export function raiseOom(
  h: AlertHarness,
  line = "torch.OutOfMemoryError: CUDA out of memory.",
): void {
  h.samples.insert(sample(h.clock.now() - MIN));
  h.addEvent(h.clock.now(), { kind: "cuda_oom", line });
  h.alerting.evaluate("exp001");
}
