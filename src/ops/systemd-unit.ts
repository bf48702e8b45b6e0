import { shellQuote } from "../transport/shell-quote.ts";
import type { Transport } from "../transport/transport.ts";
import { RestartError } from "./restart.ts";

/** Which systemd manager holds a unit: the system one, or the SSH user's own (`--user`). */
export type SystemdScope = "system" | "user";

/** A unit as systemd reports it. */
export interface SystemdUnitState {
  unit: string;
  scope: SystemdScope;
  /** systemd's ActiveState: `active`, `activating`, `deactivating`, `inactive`, `failed`, … */
  activeState: string;
}

/** Whether the unit's process may still run (anything but inactive or failed). */
export function unitRuns(state: SystemdUnitState): boolean {
  return state.activeState !== "inactive" && state.activeState !== "failed";
}

/** The scope's systemctl flags. */
function scopeFlag(scope: SystemdScope): string {
  switch (scope) {
    case "system":
      return "";
    case "user":
      return " --user";
  }
}

/**
 * Finds the unit, as the SSH user sees it: in the system manager, else in the user's own
 * (`systemctl --user`), as a restart does. Throws a RestartError with systemctl's own words when
 * neither manager answers, or when neither has the unit loaded.
 */
export async function systemdUnitState(
  transport: Transport,
  unit: string,
): Promise<SystemdUnitState> {
  const u = shellQuote(unit);
  const script = (["system", "user"] as const)
    .map(
      (scope) =>
        `out=$(systemctl${scopeFlag(scope)} show --property=LoadState,ActiveState -- ${u} 2>&1); printf '@@%s %s\\n%s\\n' ${scope} "$?" "$out"`,
    )
    .join("\n");
  const result = await transport.run(script);
  const text = result.stdout.toString("utf8");
  const answers: Array<{ scope: SystemdScope; code: number; out: string }> = [];
  for (const line of text.split("\n")) {
    const head = /^@@(system|user) (\d+)$/.exec(line);
    if (head) answers.push({ scope: head[1] as SystemdScope, code: Number(head[2]), out: "" });
    else if (answers.length > 0 && line.trim() !== "") {
      const last = answers[answers.length - 1] as (typeof answers)[number];
      last.out += `${line.trim()}\n`;
    }
  }
  for (const answer of answers) {
    if (answer.code !== 0) continue;
    const load = /^LoadState=(\S*)/m.exec(answer.out)?.[1];
    const active = /^ActiveState=(\S*)/m.exec(answer.out)?.[1];
    if (load === "loaded" && active) return { unit, scope: answer.scope, activeState: active };
  }
  if (answers.some((a) => a.code === 0)) {
    throw new RestartError(
      `systemd has no unit ${unit} (neither the system's nor the SSH user's --user units); check restart.systemdUnit`,
    );
  }
  const said = answers.find((a) => a.out !== "")?.out.split("\n")[0] ?? result.stderr.trim();
  throw new RestartError(`systemctl could not reach systemd on the VM: ${said || "no answer"}`);
}

/**
 * `systemctl stop` of the unit in its scope, as the SSH user; systemd signals the unit's
 * processes (its KillSignal, then SIGKILL after TimeoutStopSec) and returns once they are gone.
 * Resolves to the state it reports afterwards; throws a RestartError when systemctl fails.
 */
export async function stopSystemdUnit(
  transport: Transport,
  unit: SystemdUnitState,
): Promise<SystemdUnitState> {
  const result = await transport.run(
    `systemctl${scopeFlag(unit.scope)} stop -- ${shellQuote(unit.unit)}`,
  );
  if (result.code !== 0) {
    throw new RestartError(
      `systemctl${scopeFlag(unit.scope)} stop ${unit.unit} failed: ${result.stderr.trim() || `exit ${result.code}`}`,
    );
  }
  return systemdUnitState(transport, unit.unit);
}
