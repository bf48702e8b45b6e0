import type { Migration } from "./migration.ts";

/** Keys of one-off notices (phase verdicts, operation outcomes) already put in the outbox. */
export const noticesMigration: Migration = {
  id: 5,
  name: "notices",
  up: `
CREATE TABLE notices (
  dedupe_key TEXT PRIMARY KEY,
  run TEXT,
  created_at INTEGER NOT NULL,
  outbox_id INTEGER NOT NULL
);
`,
};
