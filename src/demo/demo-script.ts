/** One step of a demo script. */
export type DemoStep =
  | { kind: "command"; line: string; lineNumber: number }
  /** `confirm` / `cancel` alone: press that button on the newest confirmation shown. */
  | { kind: "press"; button: "confirm" | "cancel"; lineNumber: number }
  /** `press <label>`: press the newest button of that label shown (an alert's Stop training). */
  | { kind: "press-label"; label: string; lineNumber: number }
  /** `simulate …`: make the simulated job misbehave, as a real one might. */
  | { kind: "simulate"; fault: SimulatedFault; lineNumber: number }
  | { kind: "sleep"; ms: number; lineNumber: number }
  /** `wait phase 2 passed [timeout 300s]`, `wait rollback`, `wait step 40`. */
  | { kind: "wait"; condition: WaitCondition; timeoutMs: number; lineNumber: number };

export type WaitCondition =
  | { type: "phase"; index: number; state: "passed" | "failed" | "inconclusive" }
  | { type: "rollback" }
  | { type: "step"; atLeast: number }
  /** `wait alert nan_loss`, `wait alert pattern:checkpoint_failed`: the rule's alert fires. */
  | { type: "alert"; rule: string }
  /** `wait stopped`: a stop went through and a poll since saw training gone. */
  | { type: "stopped" };

/**
 * What `simulate` does to the simulated job: `log-line <text>` appends a line to its log as the
 * job would print it; `nan-loss` makes its loss NaN from its next start on.
 */
export type SimulatedFault = { type: "log-line"; text: string } | { type: "nan-loss" };

/** Raised for a script line that means nothing; names the line and the forms that work. */
export class DemoScriptError extends Error {
  override readonly name = "DemoScriptError";
}

const FORMS =
  "use /train …, confirm, cancel, press <button label>, simulate log-line <text>, simulate nan-loss, wait <N>s, wait phase <N> passed|failed|inconclusive, wait rollback, wait step <N>, wait alert <rule>, or wait stopped (each wait may end with 'timeout <N>s')";

/**
 * Parses a demo script: `/train …` commands as typed in the console, bare `confirm` / `cancel`,
 * `press <label>` (an alert's button), `simulate …` (the simulated job misbehaves), and `wait`
 * lines that hold the script until the run gets somewhere. `#` starts a comment.
 */
export function parseDemoScript(text: string, defaultTimeoutMs = 300_000): DemoStep[] {
  const steps: DemoStep[] = [];
  text.split("\n").forEach((raw, i) => {
    const lineNumber = i + 1;
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    if (line.startsWith("/train") || /^(confirm|cancel)\s+\S+$/i.test(line)) {
      steps.push({ kind: "command", line, lineNumber });
      return;
    }
    if (/^(confirm|cancel)$/i.test(line)) {
      steps.push({ kind: "press", button: line.toLowerCase() as "confirm" | "cancel", lineNumber });
      return;
    }
    const press = /^press\s+(.+)$/i.exec(line);
    if (press) {
      steps.push({ kind: "press-label", label: (press[1] as string).trim(), lineNumber });
      return;
    }
    const simulate = /^simulate\s+(log-line\s+(.+)|nan-loss)$/i.exec(line);
    if (simulate) {
      const fault: SimulatedFault = simulate[2]
        ? { type: "log-line", text: simulate[2] }
        : { type: "nan-loss" };
      steps.push({ kind: "simulate", fault, lineNumber });
      return;
    }
    const wait = /^wait\s+(.+?)(?:\s+timeout\s+(\d+)s)?$/i.exec(line);
    if (wait) {
      const what = (wait[1] ?? "").toLowerCase();
      const timeoutMs = wait[2] ? Number(wait[2]) * 1000 : defaultTimeoutMs;
      const sleep = /^(\d+(?:\.\d+)?)s$/.exec(what);
      if (sleep) {
        steps.push({ kind: "sleep", ms: Number(sleep[1]) * 1000, lineNumber });
        return;
      }
      const phase = /^phase\s+(\d+)\s+(passed|failed|inconclusive)$/.exec(what);
      if (phase) {
        steps.push({
          kind: "wait",
          condition: {
            type: "phase",
            index: Number(phase[1]),
            state: phase[2] as "passed" | "failed" | "inconclusive",
          },
          timeoutMs,
          lineNumber,
        });
        return;
      }
      if (what === "rollback") {
        steps.push({ kind: "wait", condition: { type: "rollback" }, timeoutMs, lineNumber });
        return;
      }
      const alert = /^alert\s+([a-z][a-z0-9_]*(?::[a-z][a-z0-9_]*)?)$/.exec(what);
      if (alert) {
        steps.push({
          kind: "wait",
          condition: { type: "alert", rule: alert[1] as string },
          timeoutMs,
          lineNumber,
        });
        return;
      }
      if (what === "stopped") {
        steps.push({ kind: "wait", condition: { type: "stopped" }, timeoutMs, lineNumber });
        return;
      }
      const step = /^step\s+(\d+)$/.exec(what);
      if (step) {
        steps.push({
          kind: "wait",
          condition: { type: "step", atLeast: Number(step[1]) },
          timeoutMs,
          lineNumber,
        });
        return;
      }
    }
    throw new DemoScriptError(
      `demo script line ${lineNumber}: '${line}' is not understood; ${FORMS}`,
    );
  });
  return steps;
}
