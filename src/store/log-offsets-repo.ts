import type { Db } from "./database.ts";

/** Where reading a run's log stopped, so no byte is read or counted twice. */
export interface LogOffset {
  /** Inode of the file the offset belongs to; a new inode means the log was rotated. */
  inode: string | null;
  /** Bytes consumed so far (complete lines plus `partial`). */
  offset: number;
  /** The incomplete last line, kept until its end arrives. */
  partial: Buffer;
  /** Lines seen so far, for line numbers in events. */
  lineCount: number;
  /** Uptime stamp of the newest kernel line already classified. */
  kernelMark: number | null;
  /**
   * Hex of the last bytes before `offset` (up to 32). The probe compares it with the file, so
   * a log truncated and rewritten past the offset (logrotate's copytruncate) is still noticed.
   */
  anchor: string;
  /** Length of the file's prefix that `prefixSum` covers (0: not known yet). */
  prefixLength?: number;
  /** `cksum` CRC of the file's first `prefixLength` bytes: the file's identity beyond its inode. */
  prefixSum?: string;
  /** `inode size mtime` of the rotated file (`<log>.1`) at the last read; "" when none. */
  rotatedStamp?: string;
}

interface OffsetRow {
  inode: string | null;
  offset: number;
  partial: Buffer | null;
  line_count: number;
  kernel_mark: number | null;
  anchor: string | null;
  prefix_length: number;
  prefix_sum: string;
  rotated_stamp: string;
}

/** Log read positions, one row per run. */
export class LogOffsetsRepo {
  constructor(private readonly db: Db) {}

  get(run: string): LogOffset | null {
    const row = this.db
      .prepare(
        "SELECT inode, offset, partial, line_count, kernel_mark, anchor, prefix_length, prefix_sum, rotated_stamp FROM log_offsets WHERE run = ?",
      )
      .get(run) as OffsetRow | undefined;
    if (!row) return null;
    return {
      inode: row.inode,
      offset: row.offset,
      partial: row.partial ?? Buffer.alloc(0),
      lineCount: row.line_count,
      kernelMark: row.kernel_mark,
      anchor: row.anchor ?? "",
      prefixLength: row.prefix_length,
      prefixSum: row.prefix_sum,
      rotatedStamp: row.rotated_stamp,
    };
  }

  set(run: string, value: LogOffset, at: number): void {
    this.db
      .prepare(
        `INSERT INTO log_offsets (run, inode, offset, partial, line_count, kernel_mark, anchor,
           prefix_length, prefix_sum, rotated_stamp, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (run) DO UPDATE SET inode = excluded.inode, offset = excluded.offset,
           partial = excluded.partial, line_count = excluded.line_count,
           kernel_mark = excluded.kernel_mark, anchor = excluded.anchor,
           prefix_length = excluded.prefix_length, prefix_sum = excluded.prefix_sum,
           rotated_stamp = excluded.rotated_stamp,
           updated_at = excluded.updated_at`,
      )
      .run(
        run,
        value.inode,
        value.offset,
        value.partial,
        value.lineCount,
        value.kernelMark,
        value.anchor,
        value.prefixLength ?? 0,
        value.prefixSum ?? "",
        value.rotatedStamp ?? "",
        at,
      );
  }
}
