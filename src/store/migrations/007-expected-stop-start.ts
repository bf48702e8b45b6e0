import type { Migration } from "./migration.ts";

/**
 * When the restart behind an expected stop started the new process. Errors logged between the
 * stop being noted and this moment are the old process's way out, not news to alert on.
 */
export const expectedStopStartMigration: Migration = {
  id: 7,
  name: "expected-stop-start",
  up: `
ALTER TABLE alert_expected_stops ADD COLUMN started_at INTEGER;
`,
};
