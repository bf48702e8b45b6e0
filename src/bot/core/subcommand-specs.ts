import { CHART_METRICS } from "../../charts/chart-metrics.ts";
import { SETTING_LIMITS } from "../../ops/run-operations.ts";
import type { OptionSpec, SubcommandSpec } from "./command-request.ts";

/** Chart metrics a person can ask for. */

/** Bounds shared by the specs (Discord ranges) and the validators (messages). */
export const LIMITS = {
  ...SETTING_LIMITS,
  lines: { min: 1, max: 200, default: 40 },
} as const;

const run: OptionSpec = {
  name: "run",
  description: "Run name (optional when only one run is configured)",
  type: "string",
  required: false,
  autocomplete: true,
};

/** Every `/train` subcommand with its options, in the order help lists them. */
export const SUBCOMMAND_SPECS: readonly SubcommandSpec[] = [
  {
    name: "status",
    description: "Progress, speed, memory, phase and alerts",
    options: [run],
    mutating: false,
  },
  {
    name: "plan",
    description: "The phase plan, where the run stands, results",
    options: [run],
    mutating: false,
  },
  {
    name: "next-phase",
    operation: "next-phase",
    description: "Preview and apply the next phase of the plan",
    options: [run],
    mutating: true,
  },
  {
    name: "set",
    operation: "set",
    description: "Change data-loader workers or batch size",
    options: [
      run,
      {
        name: "workers",
        description: "Data-loader workers",
        type: "integer",
        required: false,
        min: LIMITS.workers.min,
        max: LIMITS.workers.max,
      },
      {
        name: "batch",
        description: "Training batch size",
        type: "integer",
        required: false,
        min: LIMITS.batch.min,
        max: LIMITS.batch.max,
      },
    ],
    mutating: true,
  },
  {
    name: "restart",
    operation: "restart",
    description: "Restart training with the current config",
    options: [run],
    mutating: true,
  },
  {
    name: "stop",
    operation: "stop",
    description: "Stop training and leave it stopped (signals, scancel or systemctl stop)",
    options: [run],
    mutating: true,
  },
  {
    name: "rollback",
    operation: "rollback",
    description: "Go back to the last passed config",
    options: [run],
    mutating: true,
  },
  {
    name: "logs",
    description: "Tail of the training log, secrets redacted",
    options: [
      run,
      {
        name: "lines",
        description: `Lines to show (default ${LIMITS.lines.default})`,
        type: "integer",
        required: false,
        min: LIMITS.lines.min,
        max: LIMITS.lines.max,
      },
    ],
    mutating: false,
  },
  {
    name: "errors",
    description: "Recent errors seen in the log and kernel",
    options: [run],
    mutating: false,
  },
  {
    name: "mute",
    description: "Silence alerts of a run (or one rule) for a while",
    options: [
      run,
      {
        name: "rule",
        description: "Alert rule, e.g. gpu_idle (all when omitted)",
        type: "string",
        required: false,
      },
      {
        name: "duration",
        description: "How long, e.g. 30m, 2h, 1d",
        type: "string",
        required: true,
      },
      {
        name: "reason",
        description: "Why, shown with the silence",
        type: "string",
        required: true,
      },
    ],
    mutating: true,
    confirms: false,
  },
  {
    name: "unmute",
    description: "End silences of a run (or one rule)",
    options: [
      run,
      {
        name: "rule",
        description: "Alert rule (all when omitted)",
        type: "string",
        required: false,
      },
    ],
    mutating: true,
    confirms: false,
  },
  {
    name: "chart",
    description: "A chart of one metric over a window",
    options: [
      run,
      {
        name: "metric",
        description: "What to draw (default: all four)",
        type: "string",
        required: false,
        choices: [...CHART_METRICS],
      },
      {
        name: "window",
        description: "How far back, e.g. 6h, 2d (default 6h)",
        type: "string",
        required: false,
      },
    ],
    mutating: false,
  },
  {
    name: "digest",
    description: "Every run's progress, alerts and cost since the last digest",
    options: [run],
    mutating: false,
  },
  { name: "help", description: "What each command does", options: [], mutating: false },
];

/** The spec of a subcommand, or undefined. */
export function findSpec(name: string): SubcommandSpec | undefined {
  return SUBCOMMAND_SPECS.find((spec) => spec.name === name);
}

/** The operation a subcommand confirms, when it previews a change and asks Confirm / Cancel. */
export function confirmedOperation(spec: SubcommandSpec): SubcommandSpec["operation"] {
  return spec.mutating && spec.confirms !== false ? spec.operation : undefined;
}
