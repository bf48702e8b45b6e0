import type { Migration } from "./migration.ts";

/**
 * The identity of the file a log offset belongs to, beyond its inode: the length and `cksum` of
 * its first bytes (up to 4 KiB). A truncation, a copytruncate or a rewrite past the offset
 * changes them even when the inode and the size would not tell. And the rotated file's stamp at
 * the last read, so only a rotation made since then is taken for the rest of the file.
 */
export const logIdentityMigration: Migration = {
  id: 11,
  name: "log-identity",
  up: `
ALTER TABLE log_offsets ADD COLUMN prefix_length INTEGER NOT NULL DEFAULT 0;
ALTER TABLE log_offsets ADD COLUMN prefix_sum TEXT NOT NULL DEFAULT '';
ALTER TABLE log_offsets ADD COLUMN rotated_stamp TEXT NOT NULL DEFAULT '';
`,
};
