import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openDatabase, StoreError } from "../../src/store/database.ts";

const root = mkdtempSync(join(tmpdir(), "trainops-store-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("opening a store that cannot be used", () => {
  it("names a damaged store file and says what to do", () => {
    const path = join(root, "trainops.db");
    writeFileSync(path, "this is not a SQLite file, it is a text file of some length\n".repeat(40));
    const error = (() => {
      try {
        openDatabase(path);
      } catch (e) {
        return e as Error;
      }
      return null;
    })();
    expect(error).toBeInstanceOf(StoreError);
    expect(error?.message).toBe(
      `the store ${path} is damaged or not a trainops store (file is not a database); move it aside (mv ${path} ${path}.broken) and start again with an empty one, or point store: at another file`,
    );
  });

  it("says plainly when the store's folder cannot be made", () => {
    // A path under a regular file cannot be created, for root too (which ignores permissions).
    const file = join(root, "plain-file");
    writeFileSync(file, "x");
    const path = join(file, "trainops.db");
    expect(() => openDatabase(path)).toThrow(StoreError);
    expect(() => openDatabase(path)).toThrow(
      `cannot create the store ${path}: a file stands where its folder should be; point store: at a path in a folder`,
    );
  });
});
