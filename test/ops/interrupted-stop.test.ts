import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { configSchema } from "../../src/config/schema.ts";
import { ManualClock } from "../../src/core/clock.ts";
import { openProduct, type Product } from "../../src/runtime/product.ts";
import { NoticesRepo } from "../../src/store/notices-repo.ts";
import { OperationJournalRepo } from "../../src/store/operation-journal-repo.ts";

let dir: string;
let product: Product | null = null;
afterEach(async () => {
  await product?.close();
  rmSync(dir, { recursive: true, force: true });
});

it("a stop interrupted after its signal is finished, never undone by starting training", async () => {
  dir = mkdtempSync(join(tmpdir(), "trainops-stop-recovery-"));
  const marker = join(dir, "started.marker");
  const config = configSchema.parse({
    store: join(dir, "trainops.db"),
    runs: [
      {
        name: "exp001",
        ssh: "local",
        workdir: dir,
        log: "train.log",
        process: "no_such_trainer_for_this_test.py",
        start: `touch ${marker}`,
      },
    ],
    alerts: { console: false },
  });
  const clock = new ManualClock(Date.UTC(2026, 10, 28, 12));
  product = openProduct({ config, configDir: dir, clock, sinks: [] });
  // What a stop left behind when its process died after sending the signal.
  const journal = new OperationJournalRepo(product.db);
  const id = journal.open({
    run: "exp001",
    kind: "stop",
    preview: { kind: "stop", run: "exp001", title: "Stop training of exp001" },
    actor: { name: "alice" },
    at: clock.now(),
  });
  journal.step(id, "stop-sent", clock.now());
  clock.advance(60_000);

  expect(await product.operations.recover("exp001")).toBe(1);
  const entry = journal.get(id);
  expect(entry?.outcome).toBe("recovered-forward");
  expect(entry?.detail).toContain("Training is stopped, as asked.");
  // The start command never ran.
  expect(existsSync(marker)).toBe(false);
  const notice = new NoticesRepo(product.db).list("exp001").at(-1);
  expect(notice?.message.lines?.[0]).toBe(
    "alice's 'Stop training of exp001' was interrupted (while stopping training, 12:00:00 UTC). Training is stopped, as asked.",
  );
});
