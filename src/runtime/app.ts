import type { Logger } from "pino";
import type { Alerting } from "../alerts/create-alerting.ts";
import { runNode } from "../alerts/run-node.ts";
import type { AlertSink } from "../alerts/sinks/alert-sink.ts";
import { alertingPort } from "../bot/core/alerting-adapter.ts";
import { type BotCoreService, createBotCore } from "../bot/core/bot-core.ts";
import { transportLogTail } from "../bot/core/transport-log-tail.ts";
import { chartRenderer } from "../charts/chart-renderer.ts";
import type { Config, RunConfig } from "../config/schema.ts";
import { type Clock, systemClock } from "../core/clock.ts";
import { parseDuration } from "../core/duration.ts";
import { SetupError } from "../core/errors.ts";
import { type HttpEndpoint, startHttpEndpoint } from "../daemon/http-endpoint.ts";
import { acquireInstanceLock, type InstanceLock } from "../daemon/instance-lock.ts";
import { registerPollMetrics } from "../daemon/poll-metrics.ts";
import { createRunMetrics } from "../daemon/run-metrics.ts";
import { PollScheduler } from "../monitors/poll-scheduler.ts";
import type { PollReport } from "../monitors/run-monitor.ts";
import type { Operations } from "../ops/create-operations.ts";
import { AuditRepo } from "../store/audit-repo.ts";
import { ConfirmationsRepo } from "../store/confirmations-repo.ts";
import type { Db } from "../store/database.ts";
import { PhasesRepo } from "../store/phases-repo.ts";
import { SlurmJobsRepo } from "../store/slurm-jobs-repo.ts";
import type { Transport } from "../transport/transport.ts";
import { chartDrawer } from "./chart-drawer.ts";
import { createConfiguredSinks } from "./create-sinks.ts";
import { createEngineTicker } from "./engine-ticker.ts";
import { hostPolling } from "./host-polling.ts";
import { startHousekeeping } from "./housekeeping.ts";
import type { Monitoring } from "./monitoring.ts";
import { openProduct } from "./product.ts";

/** A front end that starts and stops with the app and may deliver alerts. */
export interface FrontEnd {
  readonly name: string;
  readonly sink?: AlertSink;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface AppOptions {
  config: Config;
  /** Folder of trainops.yaml: relative plan paths resolve against it. */
  configDir: string;
  log: Logger;
  clock?: Clock;
  /** Transport per run; default SSH or local shell as the run's `ssh:` says. */
  transportFor?: (run: RunConfig) => Transport;
  /**
   * Builds the front ends once the command layer exists (console, Discord, Slack). A front end
   * that fails to start is logged and the rest of the app runs on: monitoring must not depend
   * on a chat platform being up.
   */
  frontEnds?: (core: BotCoreService) => FrontEnd[];
  /** Where alerts are written when `alerts.console` is on and no front end shows them. */
  alertStream?: { write(text: string): unknown };
  /**
   * A front end refused its credentials (bad token, missing id). The daemon stops with exit
   * status 2 and the message naming the setting; without this the app runs on without it.
   */
  onSetupError?: (error: Error) => void;
  /** Serve /healthz and /metrics (default true). */
  http?: boolean;
}

/** The running product: every part of the daemon, wired over one store. */
export interface App {
  config: Config;
  db: Db;
  monitoring: Monitoring;
  alerting: Alerting;
  operations: Operations;
  core: BotCoreService;
  http: HttpEndpoint | null;
  /** Polls every run now (the schedule keeps going). */
  pollNow(): Promise<void>;
  /** Stops cleanly: polls and sends in flight finish or stay in the outbox; the store closes. */
  stop(): Promise<void>;
}

/**
 * Starts trainops: the poll schedule and follow streams, alert rules and the outbox sender,
 * the phase engine, the command layer and its front ends, and the HTTP endpoint.
 */
export async function startApp(options: AppOptions): Promise<App> {
  const { config, log } = options;
  const clock = options.clock ?? systemClock;
  const lock: InstanceLock | null =
    config.store === ":memory:" ? null : await acquireInstanceLock(config.store);
  const cleanups: Array<() => Promise<void> | void> = [() => lock?.release()];
  const cleanup = async () => {
    for (const step of cleanups.reverse()) {
      try {
        await step();
      } catch (error) {
        log.warn({ err: error }, "error during shutdown");
      }
    }
  };
  try {
    // Front ends add their sinks below, before the sender starts.
    const sinks: AlertSink[] = [];
    // Verdict charts are drawn at delivery by the command layer, which is created below.
    let drawChart: BotCoreService["drawChart"] = async () => null;
    const product = openProduct({
      config,
      configDir: options.configDir,
      clock,
      ...(options.transportFor ? { transportFor: options.transportFor } : {}),
      sinks,
      prepare: chartDrawer((request) => drawChart(request)),
      log,
      onFollowError: (run) => metrics?.daemon.followReconnected(run),
    });
    cleanups.push(() => product.close());
    const { db, alerting, monitoring, operations, evaluate } = product;
    const phases = new PhasesRepo(db);
    // Built before the first poll so every poll is counted; served further down.
    const metrics =
      options.http !== false
        ? createRunMetrics({
            runs: () => config.runs.map((r) => r.name),
            latest: (run) => monitoring.store.samples.latest(run),
            lastReachableAt: (run) => monitoring.store.samples.latestReachable(run)?.at ?? null,
            firing: (run) => alerting.listFiring(run).filter((a) => !a.silenced),
            rules: () => alerting.rules.map((r) => ({ rule: r.name, severity: r.severity })),
            // A run with a plan and no phase started yet is at its baseline, phase 0.
            phase: (run) =>
              phases.current(run)?.phaseIndex ??
              (config.runs.find((r) => r.name === run)?.plan ? 0 : null),
            node: (run) => runNode(config, run),
            outboxDepth: () => alerting.backlogBySink(),
          })
        : null;

    const core = createBotCore({
      config,
      db: {
        samples: monitoring.store.samples,
        events: monitoring.store.events,
        confirmations: new ConfirmationsRepo(db),
        phases,
        audit: new AuditRepo(db),
        slurmJobs: new SlurmJobsRepo(db),
      },
      operations,
      alerts: alertingPort(alerting),
      logs: transportLogTail(config.runs, product.remoteFor),
      digest: { digest: (request) => alerting.digest(request) },
      clock,
      charts: chartRenderer(),
    });

    drawChart = (request) => core.drawChart(request);

    const frontEnds = options.frontEnds?.(core) ?? [];
    for (const frontEnd of frontEnds) if (frontEnd.sink) sinks.push(frontEnd.sink);
    if (!frontEnds.some((f) => f.name === "console")) {
      sinks.push(
        ...createConfiguredSinks(config, { stream: options.alertStream ?? process.stdout }),
      );
    } else {
      sinks.push(...createConfiguredSinks({ alerts: { ...config.alerts, console: false } }));
    }

    const ticker = createEngineTicker(operations.engine, clock, log);
    // A restart in progress is persisted and resumed by the next start; wait for it only briefly.
    cleanups.push(() => ticker.settle(10_000));
    const followed = new Set<string>();
    const onPolled = async (report: PollReport) => {
      metrics?.daemon.pollDone(report.run, report.durationMs / 1000, report.outcome);
      if (report.outcome !== "ok") {
        log.warn({ run: report.run, outcome: report.outcome, msg: report.message }, "poll failed");
      }
      evaluate(report.run);
      ticker.tick(report.run);
      if (!followed.has(report.run) && (report.outcome === "ok" || report.outcome === "degraded")) {
        followed.add(report.run);
        await monitoring.monitors.get(report.run)?.startFollow();
      }
    };
    const hosts = hostPolling(monitoring.store, clock);
    const scheduler = new PollScheduler({
      expression: config.poll,
      monitors: [...monitoring.monitors.values()],
      hosts,
      onPolled,
      onError: (run, error) => log.error({ run, err: error }, "poll handling failed"),
      onOverrun: ({ skipped, runs }) =>
        log.warn(
          { skipped: skipped.length, polled: runs, runs: skipped.slice(0, 10) },
          "poll round started before the previous one finished: its slow runs are skipped this round",
        ),
    });
    cleanups.push(() => scheduler.stop());
    if (metrics) registerPollMetrics(metrics.registry, () => scheduler.stats());

    alerting.senderLoop.start();
    cleanups.push(() => alerting.senderLoop.stop());
    const stopHousekeeping = startHousekeeping({
      clock,
      retentionMs: parseDuration(config.retention),
      rawMs: parseDuration(config.rawSamples),
      runs: () => config.runs.map((r) => r.name),
      store: monitoring.store,
      alerting,
      core,
    });
    cleanups.push(stopHousekeeping);

    let http: HttpEndpoint | null = null;
    if (options.http !== false) {
      http = await startHttpEndpoint({
        host: config.http.host,
        port: config.http.port,
        registry: (metrics as NonNullable<typeof metrics>).registry,
        health: () => null,
      });
      const endpoint = http;
      cleanups.push(() => endpoint.close());
      log.info({ host: config.http.host, port: http.port }, "serving /healthz and /metrics");
    }

    for (const frontEnd of frontEnds) {
      cleanups.push(() => frontEnd.stop());
      frontEnd.start().then(
        () => log.info({ frontEnd: frontEnd.name }, "front end ready"),
        (error: Error) => {
          log.error({ frontEnd: frontEnd.name, err: error.message }, "front end failed to start");
          // Rejected credentials are a setup mistake to fix now, not an outage to ride out.
          if (error instanceof SetupError) options.onSetupError?.(error);
        },
      );
    }

    // Starts the first round as well (spread out, so a hundred hosts do not connect at once).
    scheduler.start();
    log.info(
      { runs: config.runs.map((r) => r.name), poll: config.poll, store: config.store },
      "trainops started",
    );
    let stopping: Promise<void> | null = null;
    return {
      config,
      db,
      monitoring,
      alerting,
      operations,
      core,
      http,
      pollNow: async () => {
        const reports = await hosts.pollAll([...monitoring.monitors.values()]);
        await Promise.all(reports.map((report) => onPolled(report)));
      },
      stop: () => {
        stopping ??= (async () => {
          await core.idle();
          await cleanup();
          log.info("trainops stopped");
        })();
        return stopping;
      },
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}
