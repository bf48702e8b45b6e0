import type * as z from "zod";
import { didYouMean } from "./did-you-mean.ts";
import { describeExpected, objectKeys, schemaAt } from "./schema-introspection.ts";

type Issue = z.core.$ZodIssue;
type Path = readonly PropertyKey[];

const SECRET_KEY = /token|secret|passphrase|password/i;

/** Formats a key path the way users write it: `runs[0].ssh.port`. */
export function formatPath(path: Path): string {
  let text = "";
  for (const key of path) {
    if (typeof key === "number") text += `[${key}]`;
    else text += text ? `.${String(key)}` : String(key);
  }
  return text || "(top level)";
}

function valueAt(root: unknown, path: Path): unknown {
  let current = root;
  for (const key of path) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

/** Shows a bad value briefly; never shows secrets. */
function describeValue(value: unknown, path: Path): string {
  if (SECRET_KEY.test(String(path[path.length - 1] ?? ""))) return "a value (hidden: secret)";
  if (value === null) return "null (an empty value)";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  if (typeof value === "string") {
    return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  }
  return String(value);
}

/**
 * Turns zod issues into one sentence each: key path, what was wrong, and the fix.
 * `schema` is the root schema (to describe expectations and suggest keys), `input` the
 * parsed YAML (to quote what the user wrote).
 */
export function formatIssues(
  issues: readonly Issue[],
  input: unknown,
  schema: z.ZodType,
): string[] {
  const problems: string[] = [];
  const visit = (issue: Issue, prefix: Path) => {
    const path = [...prefix, ...issue.path];
    const where = formatPath(path);
    const value = valueAt(input, path);
    const expected = () => describeExpected(schemaAt(schema, path));
    switch (issue.code) {
      case "unrecognized_keys": {
        const known = objectKeys(schemaAt(schema, path));
        for (const key of issue.keys) {
          const suggestion = didYouMean(key, known);
          const fix = suggestion
            ? `did you mean "${suggestion}"? Rename it`
            : `remove it; ${where === "(top level)" ? "the top level" : where} takes ${known.join(", ")}`;
          problems.push(`${formatPath([...path, key])}: unknown key — fix: ${fix}`);
        }
        return;
      }
      case "invalid_union": {
        // Show the branch the user evidently meant: the one that got past the value's shape.
        const branches = issue.errors.filter(
          (branch) =>
            !branch.every(
              (inner) =>
                inner.path.length === 0 &&
                (inner.code === "invalid_type" || inner.code === "invalid_value"),
            ),
        );
        const chosen = branches[0];
        if (chosen) {
          for (const inner of chosen) visit(inner, path);
          return;
        }
        problems.push(
          `${where}: expected ${expected()}, got ${describeValue(value, path)} — fix: set ${where} to ${expected()}`,
        );
        return;
      }
      case "invalid_type": {
        if (value === undefined) {
          problems.push(`${where}: missing — fix: add ${where} (${expected()})`);
        } else {
          problems.push(
            `${where}: expected ${expected()}, got ${describeValue(value, path)} — fix: set ${where} to ${expected()}`,
          );
        }
        return;
      }
      case "too_small":
      case "too_big": {
        if (issue.origin === "array" && !issue.message.startsWith("Too")) {
          problems.push(`${where}: empty list — fix: ${issue.message}`);
        } else if (issue.origin === "string") {
          problems.push(`${where}: must not be empty — fix: set ${where} to a non-empty value`);
        } else {
          problems.push(
            `${where}: expected ${expected()}, got ${describeValue(value, path)} — fix: set ${where} to ${expected()}`,
          );
        }
        return;
      }
      case "invalid_format": {
        const wanted = issue.format === "regex" ? issue.message : expected();
        problems.push(
          `${where}: expected ${wanted}, got ${describeValue(value, path)} — fix: set ${where} to ${wanted}`,
        );
        return;
      }
      case "invalid_value": {
        problems.push(
          `${where}: expected ${expected()}, got ${describeValue(value, path)} — fix: set ${where} to ${expected()}`,
        );
        return;
      }
      default:
        problems.push(
          `${where}: ${issue.message} — fix: correct ${where} (see configs/trainops.schema.json)`,
        );
    }
  };
  for (const issue of issues) visit(issue, []);
  return problems;
}
