import { readFileSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { parseDocument } from "yaml";
import type * as z from "zod";
import { TrainopsError } from "../core/errors.ts";
import { type Plan, planSchema } from "./plan-schema.ts";

/** A plan file that cannot be used; the message names the file, the key and the fix. */
export class PlanError extends TrainopsError {
  override readonly name = "PlanError";
  readonly code = "plan";
  constructor(
    message: string,
    readonly problems: readonly string[] = [],
  ) {
    super(message);
  }
}

/**
 * Reads and validates a plan file. Relative paths resolve against `baseDir` (the folder of
 * trainops.yaml), so `plan: configs/plans/safe-optimization.yaml` works from anywhere.
 */
export function loadPlan(path: string, baseDir = process.cwd()): Plan {
  const full = isAbsolute(path) ? path : resolve(baseDir, path);
  let text: string;
  try {
    text = readFileSync(full, "utf8");
  } catch (error) {
    throw new PlanError(
      `cannot read plan file ${full}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}; check the run's plan: path`,
    );
  }
  return parsePlan(text, full);
}

/** Validates plan text; `source` names it in errors. */
export function parsePlan(text: string, source: string): Plan {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) {
    const first = doc.errors[0];
    const where = first?.linePos?.[0] ? ` (line ${first.linePos[0].line})` : "";
    throw new PlanError(`${source}${where}: not valid YAML: ${first?.message.split("\n")[0]}`);
  }
  const result = planSchema.safeParse(doc.toJS());
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => describeIssue(issue));
  throw new PlanError(
    `${source}: invalid plan:\n${problems.map((p) => `  - ${p}`).join("\n")}`,
    problems,
  );
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const path = issue.path.length > 0 ? issue.path.map(String).join(".") : "(top level)";
  switch (issue.code) {
    case "unrecognized_keys":
      return `${path}: unknown key${issue.keys.length > 1 ? "s" : ""} ${issue.keys.join(", ")}; remove or fix the spelling`;
    case "invalid_type":
      return `${path}: expected ${issue.expected}; ${issue.message.includes("received undefined") ? "add it" : "fix the value"}`;
    case "invalid_value":
      return `${path}: ${issue.message}`;
    case "invalid_key":
      return `${path}: not a dotted key; write keys like training.workers`;
    case "invalid_union":
      return `${path}: must be a number, true/false or a string`;
    default:
      return `${path}: ${issue.message}`;
  }
}
