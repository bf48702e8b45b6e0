import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { MIGRATIONS } from "../../src/store/migrations/index.ts";

/**
 * What the released migrations (ids 1-17) leave in `sqlite_master` on a fresh database,
 * recorded from them as they were released. A released migration must do to a database exactly
 * what it did then, whatever is done to the code that spells it.
 */
const SHIPPED = join(import.meta.dirname, "..", "fixtures", "store", "shipped-schema.json");
const LAST_SHIPPED = 17;

interface SchemaObject {
  type: string;
  name: string;
  tbl_name: string;
  sql: string | null;
}

/** Applies the released migrations to a fresh in-memory database, in order. */
function shippedSchema(): SchemaObject[] {
  const db = new Database(":memory:");
  try {
    const shipped = MIGRATIONS.filter((m) => m.id <= LAST_SHIPPED);
    expect(shipped.map((m) => m.id)).toEqual(Array.from({ length: LAST_SHIPPED }, (_, i) => i + 1));
    for (const migration of shipped) db.exec(migration.up);
    return db
      .prepare("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name")
      .all() as SchemaObject[];
  } finally {
    db.close();
  }
}

describe("released migrations", () => {
  it("build the same schema, byte for byte, as when they were released", () => {
    expect(existsSync(SHIPPED), `${SHIPPED} is missing`).toBe(true);
    const recorded = JSON.parse(readFileSync(SHIPPED, "utf8")) as SchemaObject[];
    const now = shippedSchema();
    expect(now.map((o) => `${o.type} ${o.name}`)).toEqual(
      recorded.map((o) => `${o.type} ${o.name}`),
    );
    for (const [i, object] of now.entries()) {
      expect(object, `${object.type} ${object.name}`).toStrictEqual(recorded[i]);
    }
  });

  it("the roll-up tables have the same columns, in the same order", () => {
    const db = new Database(":memory:");
    try {
      for (const migration of MIGRATIONS.filter((m) => m.id <= LAST_SHIPPED)) db.exec(migration.up);
      const columns = (table: string) =>
        db.pragma(`table_info(${table})`) as Array<{ name: string; type: string; pk: number }>;
      expect(columns("samples_1h")).toEqual(columns("samples_1m"));
      expect(columns("samples_1m").map((c) => c.name)).toEqual([
        "run",
        "at",
        "n",
        "step",
        "step_time_s",
        "steps_per_hour",
        "gpu_mem_used_mib",
        "gpu_util_pct",
        "host_used_bytes",
        "workers_rss_bytes",
        "loss",
      ]);
    } finally {
      db.close();
    }
  });
});
