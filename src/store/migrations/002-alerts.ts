import type { Migration } from "./migration.ts";

/** Tables of the alerts area. */
export const alertsMigration: Migration = {
  id: 2,
  name: "alerts",
  up: "SELECT 1;",
};
