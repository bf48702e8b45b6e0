import type { Migration } from "./migration.ts";

/** Tables of the phases area. */
export const phasesMigration: Migration = {
  id: 3,
  name: "phases",
  up: "SELECT 1;",
};
