import { appendFileSync, existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { type AddressInfo, createServer } from "node:net";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Logger } from "pino";
import type { AlertSink } from "../alerts/sinks/alert-sink.ts";
import { ConsoleFrontEnd } from "../bot/console/console-front-end.ts";
import { ConsoleSession } from "../bot/console/console-session.ts";
import type { BotCore } from "../bot/core/command-request.ts";
import { loadConfig } from "../config/load-config.ts";
import type { Message } from "../message/message.ts";
import { type App, type FrontEnd, startApp } from "../runtime/app.ts";
import { chatFrontEnds, chatPlatforms } from "../runtime/chat-front-ends.ts";
import { createSimulatedVm, type SimulatedVm } from "../simulator/simulated-vm.ts";
import { ChangeLocksRepo } from "../store/change-locks-repo.ts";
import { PhasesRepo } from "../store/phases-repo.ts";
import { demoConfigYaml } from "./demo-config.ts";
import type { DemoStep, SimulatedFault, WaitCondition } from "./demo-script.ts";

const REPO_ROOT = resolve(fileURLToPath(new URL("../..", import.meta.url)));

export interface DemoOptions {
  /** Folder for the simulated VM, the store, the config and the charts. */
  dir: string;
  /** Simulated seconds per real second: 20 lets a phase pass in about a minute. */
  timeScale: number;
  /** Poll schedule (node-cron, with seconds). */
  poll: string;
  /** Script steps; null for an interactive session on stdin. */
  steps: DemoStep[] | null;
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
  log: Logger;
  /** Port of /metrics (0: any free port). */
  httpPort: number;
}

/**
 * Raised when a scripted `wait` runs out of time, or its phase ended another way; says what it
 * waited for and what happened.
 */
export class DemoTimeoutError extends Error {
  override readonly name = "DemoTimeoutError";
}

/**
 * The zero-config demo: a simulated GPU VM on this machine (`ssh: local`) running a training job
 * like the user's, the demo plan, the whole daemon, and the console front end — scripted or
 * interactive. Chat front ends join when their tokens are in the environment.
 */
export async function runDemo(options: DemoOptions): Promise<void> {
  const dir = resolve(options.dir);
  await clearPreviousDemo(dir);
  mkdirSync(dir, { recursive: true });
  const vm = await createSimulatedVm({
    root: join(dir, "vm"),
    timeScale: options.timeScale,
    startupSeconds: 2,
  });
  const httpPort = options.httpPort === 0 ? await freePort() : options.httpPort;
  const configPath = join(dir, "trainops.yaml");
  writeFileSync(
    configPath,
    demoConfigYaml({
      dir,
      vm,
      repoRoot: REPO_ROOT,
      poll: options.poll,
      httpPort,
      timeScale: options.timeScale,
    }),
  );
  // Printed before the console's prompt appears.
  options.output.write(intro(dir, httpPort, options));
  const config = loadConfig(configPath);
  let app: App | null = null;
  // Ctrl-C (or SIGTERM) ends the demo at once and quietly: the script stops, the daemon stops
  // before the simulated VM does, so stopping the job is never reported as a failure.
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    await vm.start();
    let session: ConsoleSession | null = null;
    let consoleEnded: Promise<void> = Promise.resolve();
    const tracked = trackButtons();
    const platforms = await chatPlatforms(config);
    app = await startApp({
      config,
      configDir: REPO_ROOT,
      log: options.log,
      frontEnds: (core) => {
        session = new ConsoleSession({
          core: tracked.wrap(core),
          input: options.input,
          output: options.output,
          runNames: config.runs.map((r) => r.name),
          chartDir: join(dir, "charts"),
          interactive:
            options.steps === null && Boolean((options.input as NodeJS.ReadStream).isTTY),
        });
        const consoleFront = new ConsoleFrontEnd(session);
        consoleEnded = consoleFront.finished;
        const fronts: FrontEnd[] = chatFrontEnds({
          config,
          core,
          log: options.log,
          platforms,
        });
        // The scripted demo drives the session itself; only the interactive one reads stdin.
        if (options.steps === null) fronts.unshift(consoleFront);
        else
          fronts.unshift({
            name: "console",
            sink: tracked.sink(consoleFront.sink),
            start: async () => {},
            stop: async () => {},
          });
        return fronts;
      },
    });
    const running = app;
    if (options.steps === null) {
      await untilEndOrAbort(consoleEnded, stop.signal);
    } else {
      const s = session as ConsoleSession | null;
      if (!s) throw new Error("console session did not start");
      await runScript(options.steps, s, running, vm, tracked, options.output, stop.signal);
    }
  } finally {
    process.removeListener("SIGINT", onSignal);
    process.removeListener("SIGTERM", onSignal);
    await app?.stop();
    await vm.stop();
  }
}

async function runScript(
  steps: DemoStep[],
  session: ConsoleSession,
  app: App,
  vm: SimulatedVm,
  tracked: ReturnType<typeof trackButtons>,
  output: NodeJS.WritableStream,
  stopped: AbortSignal,
): Promise<void> {
  for (const step of steps) {
    if (stopped.aborted) return;
    if (step.kind === "command") {
      output.write(`\ntrain> ${step.line}\n`);
      await session.handleLine(step.line);
    } else if (step.kind === "press") {
      const id = tracked.last(step.button);
      if (!id) throw new DemoTimeoutError(`line ${step.lineNumber}: nothing to ${step.button} yet`);
      output.write(`\ntrain> ${step.button} ${id}\n`);
      await session.handleLine(`${step.button} ${id}`);
    } else if (step.kind === "press-label") {
      // As a person would: the change under way (a restart) ends before the next is asked.
      await app.core.idle();
      await drained(app);
      const id = tracked.labelled(step.label);
      if (!id) {
        throw new DemoTimeoutError(
          `line ${step.lineNumber}: no '${step.label}' button shown yet; wait for the alert that offers it`,
        );
      }
      output.write(`\ntrain> press ${step.label}\n`);
      await session.pressButton(id);
    } else if (step.kind === "simulate") {
      output.write(`\n# simulated: ${describeFault(step.fault)}\n`);
      simulate(vm, step.fault);
    } else if (step.kind === "sleep") {
      await sleep(step.ms, stopped);
    } else {
      output.write(`\n# waiting for ${describe(step.condition)}…\n`);
      const deadline = Date.now() + step.timeoutMs;
      while (!holds(step.condition, app)) {
        if (stopped.aborted) return;
        // The awaited phase ended another way (failed, rolled back…): waiting on is pointless.
        const instead = endedOtherwise(step.condition, app);
        if (instead) {
          await drained(app);
          throw new DemoTimeoutError(
            `line ${step.lineNumber}: waited for ${describe(step.condition)}, but ${instead}; the script stops here`,
          );
        }
        if (Date.now() > deadline) {
          throw new DemoTimeoutError(
            `line ${step.lineNumber}: ${describe(step.condition)} did not happen within ${step.timeoutMs / 1000} s`,
          );
        }
        await sleep(250, stopped);
      }
      await drained(app);
    }
  }
  await app.core.idle();
  await drained(app);
}

/** Waits (briefly) until every queued alert and verdict was shown, so output stays in order. */
async function drained(app: App): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (app.alerting.backlog() > 0 && Date.now() < deadline) await sleep(100);
}

/** Makes the simulated job misbehave as a real one might. */
function simulate(vm: SimulatedVm, fault: SimulatedFault): void {
  switch (fault.type) {
    case "log-line":
      // One append of a whole line, as the job's own logging does (the log is opened O_APPEND).
      appendFileSync(vm.logPath, `${fault.text}\n`);
      return;
    case "nan-loss":
      vm.setExtraArgs(["--nan-at-step", "1"]);
      return;
  }
}

function describeFault(fault: SimulatedFault): string {
  switch (fault.type) {
    case "log-line":
      return `the job logs '${fault.text}'`;
    case "nan-loss":
      return "from its next start, the job's loss is NaN";
  }
}

function holds(condition: WaitCondition, app: App): boolean {
  const run = app.config.runs[0]?.name ?? "";
  const phases = new PhasesRepo(app.db);
  if (condition.type === "step") {
    return (app.monitoring.store.samples.latestReachable(run)?.step ?? -1) >= condition.atLeast;
  }
  if (condition.type === "alert") {
    return app.alerting.listFiring(run).some((alert) => alert.rule === condition.rule);
  }
  if (condition.type === "stopped") {
    // The stop let go of the run's change lock, and a poll since saw no training process.
    const latest = app.monitoring.store.samples.latestReachable(run);
    return new ChangeLocksRepo(app.db).get(run) === null && latest?.alive === false;
  }
  const attempts = phases.list(run);
  if (condition.type === "rollback") {
    // Done when training runs again after the rollback, not when it was decided: the rollback
    // has let go of the run's change lock (its restart was confirmed and its notice queued),
    // and a poll since saw the job alive.
    const rolledBack = attempts.filter((a) => a.rolledBackAt !== null).at(-1);
    const latest = app.monitoring.store.samples.latestReachable(run);
    return (
      rolledBack?.rolledBackAt != null &&
      new ChangeLocksRepo(app.db).get(run) === null &&
      latest !== null &&
      latest.alive === true &&
      latest.at > rolledBack.rolledBackAt
    );
  }
  return attempts.some(
    (a) => a.phaseIndex === condition.index && a.kind !== "manual" && a.state === condition.state,
  );
}

/**
 * What happened instead of the awaited end, or null while it may still come: the newest attempt
 * of the awaited phase ended with another verdict.
 */
function endedOtherwise(condition: WaitCondition, app: App): string | null {
  if (condition.type !== "phase") return null;
  const run = app.config.runs[0]?.name ?? "";
  const newest = new PhasesRepo(app.db)
    .list(run)
    .filter((a) => a.phaseIndex === condition.index && a.kind !== "manual")
    .at(-1);
  if (!newest || newest.state === condition.state) return null;
  if (newest.state !== "passed" && newest.state !== "failed" && newest.state !== "inconclusive")
    return null;
  const label = condition.index === 0 ? "the baseline" : `phase ${condition.index}`;
  const why = newest.reason ? ` (${newest.reason})` : "";
  const after = newest.rolledBackAt !== null ? " and was rolled back" : "";
  return `${label} ${newest.state}${why}${after}`;
}

function describe(condition: WaitCondition): string {
  if (condition.type === "step") return `step ${condition.atLeast}`;
  if (condition.type === "alert") return `the ${condition.rule} alert`;
  if (condition.type === "stopped") return "training to stop";
  if (condition.type === "rollback") return "the rollback";
  return `phase ${condition.index} to be ${condition.state}`;
}

/**
 * Remembers the newest Confirm / Cancel button ids the core handed out, and the newest button
 * of each label an alert showed in the console.
 */
function trackButtons() {
  const newest: { confirm?: string; cancel?: string } = {};
  const byLabel = new Map<string, string>();
  const note = (message: Message) => {
    for (const button of message.buttons ?? []) {
      const [kind, id] = button.id.split(":");
      if ((kind === "confirm" || kind === "cancel") && id) newest[kind] = id;
      byLabel.set(button.label.toLowerCase(), button.id);
    }
    return message;
  };
  return {
    last: (button: "confirm" | "cancel") => newest[button],
    labelled: (label: string) => byLabel.get(label.toLowerCase()),
    sink: (sink: AlertSink): AlertSink => ({
      ...sink,
      deliver: (message, key) => sink.deliver(note(message), key),
    }),
    wrap: <T extends BotCore>(core: T): T =>
      new Proxy(core, {
        get(target, property, receiver) {
          const value = Reflect.get(target, property, receiver);
          if (property === "execute" || property === "press") {
            return async (...args: unknown[]) =>
              note(await (value as (...a: unknown[]) => Promise<Message>).apply(target, args));
          }
          return typeof value === "function" ? value.bind(target) : value;
        },
      }),
  };
}

/** Resolves when the console session ends (`exit`, end of input) or the demo is stopped. */
function untilEndOrAbort(ended: Promise<void>, stopped: AbortSignal): Promise<void> {
  return new Promise<void>((done) => {
    void ended.then(done);
    if (stopped.aborted) done();
    stopped.addEventListener("abort", () => done(), { once: true });
  });
}

function intro(dir: string, httpPort: number, options: DemoOptions): string {
  const metrics = `http://127.0.0.1:${httpPort}/metrics`;
  return [
    "",
    "trainops demo — a simulated 80 GB GPU VM on this machine, training like exp001 in the plan",
    `  time runs ${options.timeScale}x faster; config ${join(dir, "trainops.yaml")}; metrics ${metrics}`,
    "  step time and GPU memory follow the plan's model; host RAM is this machine's real use",
    `  charts are saved under ${join(dir, "charts")}`,
    options.steps === null
      ? "  try: /train status · /train plan · /train next-phase (then confirm) · /train help · exit"
      : "  running the demo script",
    "",
  ].join("\n");
}

async function clearPreviousDemo(dir: string): Promise<void> {
  if (!existsSync(dir)) return;
  if (existsSync(join(dir, "vm"))) {
    try {
      const old = await createSimulatedVm({ root: join(dir, "vm") });
      await old.stop();
    } catch {
      // Nothing left running.
    }
  }
  rmSync(dir, { recursive: true, force: true });
}

/** A port nobody listens on now (the demo must not collide with a daemon on 9464). */
function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => done(port));
    });
  });
}

/** Sleeps `ms`, or less when `stopped` aborts first. */
function sleep(ms: number, stopped?: AbortSignal): Promise<void> {
  return new Promise((done) => {
    const timer = setTimeout(finish, ms);
    function finish() {
      clearTimeout(timer);
      stopped?.removeEventListener("abort", finish);
      done();
    }
    stopped?.addEventListener("abort", finish, { once: true });
  });
}
