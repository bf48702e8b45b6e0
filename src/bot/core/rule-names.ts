import { RULES } from "../../alerts/rules/index.ts";
import { ArgumentError } from "./argument-error.ts";

/** Short words people use for a rule, beside its name and its label. */
const ALIASES: Readonly<Record<string, string>> = {
  oom: "cuda_oom",
  cuda: "cuda_oom",
  vram: "cuda_oom",
  host_oom: "host_oom_kill",
  oom_kill: "host_oom_kill",
  worker: "worker_killed",
  workers: "worker_killed",
  shm: "shm_exhausted",
  nccl: "nccl_timeout",
  xid: "gpu_fault",
  nan: "nan_loss",
  crash: "crashed",
  stall: "stalled",
  hang: "stalled",
  idle: "gpu_idle",
  memory: "memory_high",
  ram: "memory_high",
  disk: "disk_low",
  vm: "unreachable",
  done: "finished",
};

function normalise(word: string): string {
  return word
    .trim()
    .toLowerCase()
    .replace(/[\s-]+/g, "_");
}

/**
 * The alert rule a person means: its name (`cuda_oom`), its label ("CUDA OOM") or a short alias
 * (`oom`, `stall`, `idle`). Anything else is an ArgumentError that lists what can be muted.
 */
export function resolveRuleName(word: string): string {
  const key = normalise(word);
  // A user pattern's alerts (`pattern:<name>`): the config names them, the engine checks them.
  if (/^pattern:[a-z][a-z0-9_]*$/.test(key)) return key;
  const byName = RULES.find((r) => r.name === key || normalise(r.label) === key);
  if (byName) return byName.name;
  const alias = ALIASES[key];
  if (alias && RULES.some((r) => r.name === alias)) return alias;
  throw new ArgumentError(
    `'${word}' is not an alert; mute one of: ${RULES.map((r) => `${r.name} (${r.label})`).join(", ")}, or leave it out to mute them all`,
  );
}

/** Whether `word` names an alert rule, by name, label or alias. */
export function isRuleName(word: string): boolean {
  try {
    resolveRuleName(word);
    return true;
  } catch {
    return false;
  }
}

/**
 * The shortest word a person can type for `rule` in a command (`oom` for `cuda_oom`): an alias
 * where one exists, else the rule's name.
 */
export function ruleWord(rule: string): string {
  const aliases = Object.keys(ALIASES).filter((alias) => ALIASES[alias] === rule);
  return aliases.sort((a, b) => a.length - b.length)[0] ?? rule;
}
