import type { Db } from "./database.ts";

/** A training-config write and where its previous version was kept on the VM. */
export interface ConfigBackup {
  run: string;
  at: number;
  path: string;
  backupPath: string;
  sha256After: string;
  operation: string;
  actor: string;
}

/** Every write trainops made to a run's training config. */
export class ConfigBackupsRepo {
  constructor(private readonly db: Db) {}

  insert(backup: ConfigBackup): void {
    this.db
      .prepare(
        `INSERT INTO config_backups (run, at, path, backup_path, sha256_after, operation, actor)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        backup.run,
        backup.at,
        backup.path,
        backup.backupPath,
        backup.sha256After,
        backup.operation,
        backup.actor,
      );
  }

  /** The newest `limit` writes of a run, newest first. */
  recent(run: string, limit = 20): ConfigBackup[] {
    const rows = this.db
      .prepare("SELECT * FROM config_backups WHERE run = ? ORDER BY at DESC, id DESC LIMIT ?")
      .all(run, limit) as Array<{
      run: string;
      at: number;
      path: string;
      backup_path: string;
      sha256_after: string;
      operation: string;
      actor: string;
    }>;
    return rows.map((r) => ({
      run: r.run,
      at: r.at,
      path: r.path,
      backupPath: r.backup_path,
      sha256After: r.sha256_after,
      operation: r.operation,
      actor: r.actor,
    }));
  }
}
