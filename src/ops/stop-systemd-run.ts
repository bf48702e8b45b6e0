import type { RunConfig } from "../config/schema.ts";
import type { OpsContext } from "./ops-context.ts";
import { RestartError } from "./restart.ts";
import {
  OperationRefusedError,
  type OperationResult,
  type ProgressCallback,
} from "./run-operations.ts";
import { STOPPED_ON_PURPOSE_MS, type StopPreviewDraft, stopDraft } from "./stop-target.ts";
import {
  type SystemdUnitState,
  stopSystemdUnit,
  systemdUnitState,
  unitRuns,
} from "./systemd-unit.ts";

/** The unit as systemd reports it now; refuses when systemd cannot tell or it does not run. */
async function runningUnit(ctx: OpsContext, run: RunConfig, unit: string) {
  let state: SystemdUnitState;
  try {
    state = await systemdUnitState(ctx.remote(run).transport, unit);
  } catch (error) {
    if (error instanceof RestartError) throw new OperationRefusedError(error.message);
    throw error;
  }
  if (!unitRuns(state)) {
    throw new OperationRefusedError(
      `systemd unit ${unit} of ${run.name} is ${state.activeState}; nothing to stop`,
    );
  }
  return state;
}

function command(state: SystemdUnitState): string {
  return `systemctl${state.scope === "user" ? " --user" : ""} stop ${state.unit}`;
}

/** What stopping a systemd run would do: `systemctl stop` its unit. */
export async function stopSystemdRunPreview(
  ctx: OpsContext,
  run: RunConfig,
  unit: string,
): Promise<StopPreviewDraft> {
  const state = await runningUnit(ctx, run, unit);
  return stopDraft(
    run.name,
    `\`${command(state)}\` (systemd sends the unit's KillSignal, then SIGKILL after its TimeoutStopSec). It stays stopped until \`/train restart\` starts the unit again`,
  );
}

/**
 * Stops the run's unit with `systemctl stop`, as the SSH user, in the scope (system or
 * `--user`) that holds it. The stop is recorded as expected before; when systemctl fails it is
 * taken back, so a later crash of the unit still alerts.
 */
export async function stopSystemdRun(
  ctx: OpsContext,
  run: RunConfig,
  unit: string,
  onProgress: ProgressCallback,
): Promise<OperationResult> {
  const transport = ctx.remote(run).transport;
  let state: SystemdUnitState;
  try {
    state = await systemdUnitState(transport, unit);
  } catch (error) {
    if (!(error instanceof RestartError)) throw error;
    return { ok: false, summary: `Stopping ${run.name} failed: ${error.message}`, details: [] };
  }
  if (!unitRuns(state)) {
    throw new OperationRefusedError(
      `systemd unit ${unit} of ${run.name} is ${state.activeState}; nothing to stop`,
    );
  }
  const notedAt = ctx.clock.now();
  ctx.transaction(() => {
    ctx.expectedStops.begin(run.name, notedAt, notedAt + STOPPED_ON_PURPOSE_MS);
    ctx.journalStep(run.name, "stop-sent");
  });
  onProgress(`Stopping training (${command(state)})…`);
  let after: SystemdUnitState;
  try {
    after = await stopSystemdUnit(transport, state);
  } catch (error) {
    if (!(error instanceof RestartError)) throw error;
    ctx.expectedStops.begin(run.name, notedAt, ctx.clock.now());
    return {
      ok: false,
      summary: `Stopping ${run.name} failed: ${error.message}`,
      details: [`The unit was not stopped. Check that the SSH user may run \`${command(state)}\`.`],
    };
  }
  ctx.transaction(() => {
    // From here on the run's own errors count again (the unit started by hand).
    ctx.expectedStops.started(run.name, ctx.clock.now());
    ctx.journalStep(run.name, "confirmed");
  });
  return {
    ok: true,
    summary: `Training of ${run.name} stopped (\`${command(state)}\`; now ${after.activeState})`,
    details: ["It stays stopped; fix the cause, then `/train restart` starts the unit again."],
  };
}
