import type { Migration } from "./migration.ts";

/**
 * Deliveries whose outcome was not known (the request went out, no answer came): how many so
 * far, and whether the delivery ended as "maybe delivered" rather than being sent once more.
 */
export const maybeDeliveredMigration: Migration = {
  id: 12,
  name: "maybe-delivered",
  up: `
ALTER TABLE alert_deliveries ADD COLUMN unknown_outcomes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE alert_deliveries ADD COLUMN maybe_delivered INTEGER NOT NULL DEFAULT 0;
`,
};
