import type { GpuSample } from "../../model/monitoring.ts";

/** The `--query-gpu` fields the probe asks for, in order. */
export const GPU_QUERY_FIELDS = [
  "index",
  "name",
  "memory.used",
  "memory.total",
  "utilization.gpu",
  "temperature.gpu",
  "power.draw",
  // Last, so output without it (older probes, recorded fixtures) still reads: the DCGM
  // exporter's `UUID` label, for joining trainops' GPU metrics with its own.
  "uuid",
] as const;

/** The nvidia-smi arguments that print {@link GPU_QUERY_FIELDS} as the parser reads them. */
export const GPU_QUERY_ARGS = `--query-gpu=${GPU_QUERY_FIELDS.join(",")} --format=csv,noheader,nounits`;

/** Why nvidia-smi gave no GPU data. */
export type NvidiaSmiFailure =
  | "driver_unavailable"
  | "not_installed"
  | "no_devices"
  | "empty"
  | "unparsable";

/** The outcome of one nvidia-smi query: data, or the reason there is none (never a throw). */
export type NvidiaSmiResult<T> =
  | { ok: true; value: T }
  | { ok: false; reason: NvidiaSmiFailure; message: string };

/** One process holding GPU memory (`--query-compute-apps=pid,used_memory`). */
export interface GpuProcess {
  pid: number;
  /** Null where nvidia-smi cannot tell (WSL, other PID namespaces: `[N/A]`). */
  usedMiB: number | null;
}

const FAILURES: readonly { reason: NvidiaSmiFailure; pattern: RegExp; message: string }[] = [
  {
    reason: "driver_unavailable",
    pattern:
      /NVIDIA-SMI has failed|couldn.t communicate with the NVIDIA driver|Driver\/library version mismatch|Failed to initialize NVML/i,
    message:
      "nvidia-smi cannot reach the NVIDIA driver (not loaded, or mismatched after an upgrade)",
  },
  {
    reason: "not_installed",
    pattern: /command not found|not found|No such file or directory|is not recognized/i,
    message: "nvidia-smi is not installed or not on PATH on the VM",
  },
  {
    reason: "no_devices",
    pattern: /No devices were found|No devices found/i,
    message: "nvidia-smi found no NVIDIA GPU",
  },
];

function failure<T>(text: string): NvidiaSmiResult<T> | null {
  if (text.trim() === "")
    return { ok: false, reason: "empty", message: "nvidia-smi printed nothing" };
  for (const f of FAILURES) {
    if (f.pattern.test(text)) return { ok: false, reason: f.reason, message: f.message };
  }
  return null;
}

/** `12288`, ` 103 MiB`, `151.23 W`, `[N/A]`, `[Not Supported]` → a number or null. */
function numberField(text: string | undefined): number | null {
  if (text === undefined) return null;
  const m = /^\s*(-?\d+(?:[.,]\d+)?)\s*(?:MiB|MB|%|W|C)?\s*$/.exec(text);
  return m ? Number((m[1] as string).replace(",", ".")) : null;
}

/** `memory.used [MiB]` → `memory.used`. */
function headerName(text: string): string {
  return text.replace(/\[[^\]]*\]/g, "").trim();
}

function csvRows(text: string): string[][] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== "")
    .map((line) => line.split(",").map((field) => field.trim()));
}

/**
 * Parses `nvidia-smi --query-gpu=<fields> --format=csv[,noheader][,nounits]`. Fields come from
 * the header when there is one, else from `fields` (default {@link GPU_QUERY_FIELDS}).
 */
export function parseGpuQuery(
  text: string,
  fields: readonly string[] = GPU_QUERY_FIELDS,
): NvidiaSmiResult<GpuSample[]> {
  const failed = failure<GpuSample[]>(text);
  if (failed) return failed;
  let columns = [...fields];
  const gpus: GpuSample[] = [];
  for (const row of csvRows(text)) {
    if (row.some((field) => /^(?:index|name|memory\.\w+|utilization\.\w+)\b/.test(field))) {
      columns = row.map(headerName);
      continue;
    }
    // A missing trailing uuid column is allowed: it only adds a label.
    const optionalTail = columns.at(-1) === "uuid" ? 1 : 0;
    if (row.length !== columns.length && row.length !== columns.length - optionalTail) continue;
    const value = (name: string) => {
      const at = columns.indexOf(name);
      return at < 0 ? undefined : row[at];
    };
    const index = numberField(value("index"));
    gpus.push({
      index: index ?? gpus.length,
      name: value("name") ?? "",
      memoryUsedMiB: numberField(value("memory.used")),
      memoryTotalMiB: numberField(value("memory.total")),
      utilizationPercent: numberField(value("utilization.gpu")),
      temperatureC: numberField(value("temperature.gpu")),
      powerW: numberField(value("power.draw")),
      ...uuidOf(value("uuid")),
    });
  }
  if (gpus.length === 0) {
    return {
      ok: false,
      reason: "unparsable",
      message: `unexpected nvidia-smi output: ${firstLine(text)}`,
    };
  }
  return { ok: true, value: gpus };
}

function uuidOf(text: string | undefined): { uuid?: string } {
  return text && /^GPU-[0-9a-fA-F-]+$/.test(text) ? { uuid: text } : {};
}

/**
 * Parses `nvidia-smi --query-compute-apps=pid,used_memory --format=csv,noheader,nounits`.
 * No output at all means no process uses a GPU, which is not a failure.
 */
export function parseComputeApps(text: string): NvidiaSmiResult<GpuProcess[]> {
  if (text.trim() === "") return { ok: true, value: [] };
  const failed = failure<GpuProcess[]>(text);
  if (failed) return failed;
  const apps: GpuProcess[] = [];
  for (const row of csvRows(text)) {
    const pid = /^\d+$/.test(row[0] ?? "") ? Number(row[0]) : null;
    if (pid === null) continue; // header or noise
    apps.push({ pid, usedMiB: numberField(row[1]) });
  }
  return { ok: true, value: apps };
}

function firstLine(text: string): string {
  const line = text.trim().split(/\r?\n/)[0] ?? "";
  return line.length > 120 ? `${line.slice(0, 120)}…` : line;
}
