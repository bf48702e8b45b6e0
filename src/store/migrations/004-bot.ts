import type { Migration } from "./migration.ts";

/** Tables of the bot area. */
export const botMigration: Migration = {
  id: 4,
  name: "bot",
  up: "SELECT 1;",
};
