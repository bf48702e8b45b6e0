import * as z from "zod";

/** A duration written like 30s, 10m, 2h or 1d; parsed by `parseDuration`. */
export const duration = z
  .string()
  .regex(/^\d+(\.\d+)?(ms|s|m|h|d)$/, "a duration like 30s, 10m, 2h or 1d");

/** Alert severities, lowest first. */
export const severity = z.enum(["info", "success", "warning", "critical"]);

/** A secret string: described so the reference says to keep it in the environment. */
export const secret = (what: string) =>
  z.string().min(1).describe(`${what} (a secret: write \${VAR} and set it in the environment)`);
