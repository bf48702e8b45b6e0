import type { GpuSample } from "../model/monitoring.ts";
import type { Db } from "./database.ts";
import { type GpuIdentity, gpuIdentities } from "./sample-gpus.ts";

/**
 * What names each GPU of a run (index, model, uuid, node), by position (`sample_gpus`): stored
 * once per run, not in every sample row, which keeps the GPUs' figures alone.
 */
export class GpuIdentitiesRepo {
  constructor(private readonly db: Db) {}

  /** The identities last written per run, so an unchanged set is not written again. */
  private readonly written = new Map<string, string>();

  /** The GPU identities of a run's history rows, by position. */
  forRun(run: string): GpuIdentity[] {
    return (
      this.db
        .prepare("SELECT identity_json FROM sample_gpus WHERE run = ? ORDER BY ordinal")
        .all(run) as Array<{ identity_json: string }>
    ).map((r) => JSON.parse(r.identity_json) as GpuIdentity);
  }

  /** Writes what names each GPU of a run when it differs from what was written last. */
  save(run: string, gpus: readonly GpuSample[]): void {
    if (gpus.length === 0) return;
    const identities = gpuIdentities(gpus);
    const key = identities.join("\n");
    if (this.written.get(run) === key) return;
    const upsert = this.db.prepare(
      `INSERT INTO sample_gpus (run, ordinal, identity_json) VALUES (?, ?, ?)
       ON CONFLICT (run, ordinal) DO UPDATE SET identity_json = excluded.identity_json
       WHERE identity_json != excluded.identity_json`,
    );
    for (const [ordinal, identity] of identities.entries()) upsert.run(run, ordinal, identity);
    this.written.set(run, key);
  }
}
