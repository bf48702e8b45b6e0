import type * as z from "zod";

// Zod 4 exposes each schema's definition; these helpers read only the parts the loader's
// messages need (what a key expects, whether it may be left out, which keys an object has).
type AnySchema = z.ZodType;
interface Def {
  type: string;
  innerType?: AnySchema;
  shape?: Record<string, AnySchema>;
  element?: AnySchema;
  options?: AnySchema[];
  valueType?: AnySchema;
  entries?: Record<string, string>;
  values?: unknown[];
  checks?: Array<{ _zod: { def: Record<string, unknown> } }>;
  defaultValue?: unknown;
}

function def(schema: AnySchema): Def {
  return (schema as unknown as { def: Def }).def;
}

/** Strips optional/default/nullable wrappers. */
export function unwrap(schema: AnySchema): AnySchema {
  let current = schema;
  for (;;) {
    const d = def(current);
    if ((d.type === "optional" || d.type === "default" || d.type === "nullable") && d.innerType) {
      current = d.innerType;
    } else {
      return current;
    }
  }
}

/** What a key may be left out as: required, optional (absent) or defaulted. */
export function presence(schema: AnySchema): "required" | "optional" | "default" {
  const type = def(schema).type;
  if (type === "default") return "default";
  if (type === "optional") return "optional";
  return "required";
}

/** The schema at a key path (numbers index arrays), or undefined when the path leaves it. */
export function schemaAt(root: AnySchema, path: readonly PropertyKey[]): AnySchema | undefined {
  let current: AnySchema | undefined = root;
  for (const key of path) {
    if (!current) return undefined;
    const d = def(unwrap(current));
    if (d.type === "object" && d.shape) {
      current = d.shape[String(key)];
    } else if (d.type === "array" && d.element) {
      current = d.element;
    } else if (d.type === "record" && d.valueType) {
      current = d.valueType;
    } else if (d.type === "union" && d.options) {
      current = d.options
        .map((option) => schemaAt(option, [key]))
        .find((found) => found !== undefined);
    } else {
      return undefined;
    }
  }
  return current;
}

/** Keys an object schema declares (for did-you-mean), empty when not an object. */
export function objectKeys(schema: AnySchema | undefined): string[] {
  if (!schema) return [];
  const d = def(unwrap(schema));
  if (d.type === "object" && d.shape) return Object.keys(d.shape);
  if (d.type === "union" && d.options) return d.options.flatMap((option) => objectKeys(option));
  return [];
}

/** Says in words what a schema accepts: `an integer from 1 to 65535`, `true or false`. */
export function describeExpected(schema: AnySchema | undefined): string {
  if (!schema) return "a valid value";
  const inner = unwrap(schema);
  const d = def(inner);
  switch (d.type) {
    case "string": {
      for (const check of d.checks ?? []) {
        const c = check._zod.def;
        if (c.format === "regex" && typeof c.error === "function") return String(c.error());
        if (c.format === "url") return "a URL like https://…";
      }
      return "a text value";
    }
    case "number": {
      const isInt = (inner as unknown as { isInt: boolean }).isInt;
      const noun = isInt ? "an integer" : "a number";
      let min: { value: number; inclusive: boolean } | undefined;
      let max: { value: number; inclusive: boolean } | undefined;
      for (const check of d.checks ?? []) {
        const c = check._zod.def as { check?: string; value?: number; inclusive?: boolean };
        if (typeof c.value !== "number") continue;
        const bound = { value: c.value, inclusive: c.inclusive !== false };
        if (c.check === "greater_than") min = bound;
        if (c.check === "less_than") max = bound;
      }
      // Exclusive integer bounds read better as inclusive ones: "> 0" is "1 or more".
      if (isInt && min && !min.inclusive) min = { value: min.value + 1, inclusive: true };
      if (isInt && max && !max.inclusive) max = { value: max.value - 1, inclusive: true };
      if (min && max) return `${noun} from ${min.value} to ${max.value}`;
      if (min)
        return min.inclusive ? `${noun} of ${min.value} or more` : `${noun} above ${min.value}`;
      if (max)
        return max.inclusive ? `${noun} of ${max.value} or less` : `${noun} below ${max.value}`;
      return noun;
    }
    case "boolean":
      return "true or false";
    case "enum":
      return `one of ${Object.values(d.entries ?? {}).join(", ")}`;
    case "literal":
      return (d.values ?? []).map((v) => JSON.stringify(v)).join(" or ");
    case "array":
      return "a list";
    case "object":
      return `a mapping with keys ${Object.keys(d.shape ?? {}).join(", ")}`;
    case "record":
      return "a mapping";
    case "union":
      return (d.options ?? []).map((option) => describeExpected(option)).join(", or ");
    default:
      return "a valid value";
  }
}
