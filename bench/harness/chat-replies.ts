import { type BotCoreService, createBotCore } from "../../src/bot/core/bot-core.ts";
import type { Invoker } from "../../src/bot/core/command-request.ts";
import { chartRenderer } from "../../src/charts/chart-renderer.ts";
import type { Config } from "../../src/config/schema.ts";
import type { Clock } from "../../src/core/clock.ts";
import type { PlanView, RunOperations } from "../../src/ops/run-operations.ts";
import { AuditRepo } from "../../src/store/audit-repo.ts";
import { ConfirmationsRepo } from "../../src/store/confirmations-repo.ts";
import type { Db } from "../../src/store/database.ts";
import type { EventsRepo } from "../../src/store/events-repo.ts";
import type { SamplesRepo } from "../../src/store/samples-repo.ts";

/** The value at quantile `q` (0 to 1) of `values`, by nearest rank; `values` is left as it is. */
export function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] as number;
}

/** CPU milliseconds (user and system) this process spent on `body`. */
export function cpuMsOf(body: () => unknown): number {
  const before = process.cpuUsage();
  body();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000;
}

/** What {@link readOnlyBot} reads. */
export interface ReadOnlyBotParts {
  config: Config;
  db: Db;
  samples: SamplesRepo;
  events: EventsRepo;
  clock: Clock;
  /** What `/train plan` and the status's phase line show; runs without a plan never ask. */
  plan?: PlanView;
}

/**
 * The command layer as the daemon builds it for reads (`/train status`, `/train chart`, with
 * their chart PNGs) over a store a benchmark filled; nothing it is asked may change anything.
 */
export function readOnlyBot(parts: ReadOnlyBotParts): BotCoreService {
  const notUsed = () => Promise.reject(new Error("a read-only benchmark bot changes nothing"));
  const { plan } = parts;
  const operations: RunOperations = {
    preview: notUsed,
    apply: notUsed,
    plan: plan ? async (run) => ({ ...plan, run }) : notUsed,
  };
  return createBotCore({
    config: parts.config,
    db: {
      samples: parts.samples,
      events: parts.events,
      confirmations: new ConfirmationsRepo(parts.db),
      audit: new AuditRepo(parts.db),
    },
    operations,
    clock: parts.clock,
    charts: chartRenderer(),
  });
}

/** What {@link timeChartReplies} measured. */
export interface ChartReplyTimes {
  /** Wall time of each reply, in ms, in the order asked. */
  wallMs: number[];
  /** CPU time of this process for each reply, in ms. */
  cpuMs: number[];
  /** Size of the last reply's chart PNG. */
  pngBytes: number;
}

const BENCH_INVOKER: Invoker = {
  platform: "discord",
  userId: "1",
  userName: "bench",
  roles: [],
  channelId: "1",
};

/**
 * Asks `core` for `count` replies, the i-th being `request(i)` (after `warmUp` untimed ones of
 * `request(0)`: font registration, statement compilation, JIT), and times each from the
 * request to the finished message. Every reply must carry a chart: one without is an error, not a fast reply.
 */
export async function timeChartReplies(
  core: BotCoreService,
  request: (i: number) => { subcommand: string; args: Record<string, string> },
  options: { count: number; warmUp: number },
): Promise<ChartReplyTimes> {
  const responder = { followUp: async () => {} };
  for (let i = 0; i < options.warmUp; i++) {
    await core.execute({ ...request(0), invoker: BENCH_INVOKER }, responder);
  }
  const times: ChartReplyTimes = { wallMs: [], cpuMs: [], pngBytes: 0 };
  for (let i = 0; i < options.count; i++) {
    const asked = request(i);
    const started = performance.now();
    const cpu = process.cpuUsage();
    const message = await core.execute({ ...asked, invoker: BENCH_INVOKER }, responder);
    times.wallMs.push(performance.now() - started);
    const used = process.cpuUsage(cpu);
    times.cpuMs.push((used.user + used.system) / 1000);
    const png = message.images?.[0]?.png;
    if (!png) {
      throw new Error(
        `/train ${asked.subcommand} of ${asked.args.run} came without a chart: ${message.title}`,
      );
    }
    times.pngBytes = png.length;
  }
  return times;
}
