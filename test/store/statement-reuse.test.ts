import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openDatabase } from "../../src/store/database.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function store() {
  const dir = mkdtempSync(join(tmpdir(), "trainops-statements-"));
  dirs.push(dir);
  const db = openDatabase(join(dir, "trainops.db"));
  db.exec("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)");
  db.prepare("INSERT INTO t (k, v) VALUES (?, ?)").run(1, "one");
  db.prepare("INSERT INTO t (k, v) VALUES (?, ?)").run(2, "two");
  return db;
}

describe("the store's statements", () => {
  it("are compiled once per SQL text and handed out again", () => {
    const db = store();
    const sql = "SELECT v FROM t WHERE k = ?";
    expect(db.prepare(sql)).toBe(db.prepare(sql));
    expect(db.prepare(sql).get(2)).toEqual({ v: "two" });
    db.close();
  });

  it("come back in their plain row mode, whatever the previous caller set", () => {
    const db = store();
    const sql = "SELECT k, v FROM t ORDER BY k";
    expect(db.prepare(sql).raw(true).all()).toEqual([
      [1, "one"],
      [2, "two"],
    ]);
    expect(db.prepare(sql).pluck(true).all()).toEqual([1, 2]);
    expect(db.prepare(sql).all()).toEqual([
      { k: 1, v: "one" },
      { k: 2, v: "two" },
    ]);
    db.close();
  });

  it("are not handed out while iterating: a nested query on the same SQL gets its own", () => {
    const db = store();
    const sql = "SELECT k FROM t WHERE k >= ? ORDER BY k";
    const outer = db.prepare(sql);
    const pairs: Array<[number, number[]]> = [];
    for (const row of outer.iterate(1) as Iterable<{ k: number }>) {
      const inner = db.prepare(sql);
      expect(inner).not.toBe(outer);
      pairs.push([row.k, (inner.all(row.k) as Array<{ k: number }>).map((r) => r.k)]);
    }
    expect(pairs).toEqual([
      [1, [1, 2]],
      [2, [2]],
    ]);
    expect(db.prepare(sql)).toBe(outer);
    db.close();
  });
});
