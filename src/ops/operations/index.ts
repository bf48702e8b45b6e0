import * as z from "zod";
import type { Operation } from "../operation.ts";
import { OperationRefusedError } from "../operation-refused-error.ts";
import { nextPhaseOperation } from "./next-phase.ts";
import { restartOperation } from "./restart.ts";
import { rollbackOperation } from "./rollback.ts";
import { setOperation } from "./set.ts";
import { stopOperation } from "./stop.ts";

/**
 * Every operation, one file each. Adding one: write its file (kind, preview schema, preview,
 * apply) and list it here; chat's subcommand spec and the CLI name it by its kind.
 */
export const OPERATIONS = [
  nextPhaseOperation,
  setOperation,
  rollbackOperation,
  restartOperation,
  stopOperation,
] as const;

/**
 * What a change would do, shown before Confirm / Cancel: one shape per operation, told apart by
 * `kind`. Stable across a bot restart: the confirmation stores it, and `apply` parses it back
 * (a stored preview is data, not trusted) and re-checks that the config still matches
 * `changes[].before`.
 */
export const changePreviewSchema = z.discriminatedUnion("kind", [
  nextPhaseOperation.schema,
  setOperation.schema,
  rollbackOperation.schema,
  restartOperation.schema,
  stopOperation.schema,
]);

/** A preview of any kind (see {@link changePreviewSchema}). */
export type ChangePreview = z.infer<typeof changePreviewSchema>;

/** Kinds of change a person can ask for. */
export type OperationKind = ChangePreview["kind"];

/** The preview of one kind. */
export type PreviewOf<K extends OperationKind> = Extract<ChangePreview, { kind: K }>;

/** Any registered operation. */
export type AnyOperation = (typeof OPERATIONS)[number];

/** The operation of a kind; refuses a kind that is not registered (a stored typo). */
export function operationFor(kind: string): Operation<z.ZodObject<{ kind: z.ZodLiteral<string> }>> {
  const found = OPERATIONS.find((operation) => operation.kind === kind);
  if (!found) {
    throw new OperationRefusedError(
      `'${kind}' is not an operation; known: ${OPERATIONS.map((o) => o.kind).join(", ")}`,
    );
  }
  return found as unknown as Operation<z.ZodObject<{ kind: z.ZodLiteral<string> }>>;
}

/**
 * Reads a stored preview back (a confirmation's, a journal's); throws OperationRefusedError
 * naming what is wrong when it is not one this version understands.
 */
export function parseChangePreview(stored: unknown): ChangePreview {
  const parsed = changePreviewSchema.safeParse(stored);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue ? `${issue.path.join(".") || "preview"}: ${issue.message}` : "unreadable";
    throw new OperationRefusedError(
      `the stored preview is not one this version of trainops can apply (${where}); preview again`,
    );
  }
  return parsed.data;
}
