import type { LogOffset } from "../store/log-offsets-repo.ts";
import {
  emptyIngestResult,
  type LogIngestor,
  type LogRead,
  type ReadResult,
} from "./log-ingestor.ts";

/** The stored read position a log read's script was built from. */
export interface ReadBasis {
  inode: string | null;
  offset: number;
  rotatedStamp: string;
}

/** The basis of a script built now from the stored position `stored`. */
export function readBasisOf(stored: LogOffset | null): ReadBasis {
  return {
    inode: stored?.inode ?? null,
    offset: stored?.offset ?? 0,
    rotatedStamp: stored?.rotatedStamp ?? "",
  };
}

/**
 * What of a read may be applied now, when another read of the same log may have been applied
 * since its script was built (a follow stream's read runs beside a probe in flight, on its own
 * shell). A read built from the position still stored is applied as it is. One built from an
 * older position is applied only as a plain continuation of the file read so far: the same
 * file, no rotation or truncation seen, and its bytes hold the stored anchor right before the
 * stored offset (so they are the bytes consumed there, not a rewrite); the ingestor then drops
 * what was already consumed. Anything else (a rotation, a truncation, a read that ends before
 * the offset) is dropped whole: the next read starts from the stored position and takes it.
 * Returns null for a read to drop.
 */
export function applicableRead(
  read: LogRead,
  basis: ReadBasis,
  current: LogOffset | null,
): LogRead | null {
  const now = readBasisOf(current);
  if (
    now.inode === basis.inode &&
    now.offset === basis.offset &&
    now.rotatedStamp === basis.rotatedStamp
  ) {
    return read;
  }
  const log = read.log;
  if (read.rest !== null || !current || !log.present) return null;
  if (log.reset !== "none" || log.changed || log.inode !== current.inode) return null;
  if (current.anchor === "") return null;
  const anchor = Buffer.from(current.anchor, "hex");
  const from = current.offset - anchor.length - log.start;
  if (from < 0 || log.start + log.bytes.length <= current.offset) return null;
  if (!log.bytes.subarray(from, from + anchor.length).equals(anchor)) return null;
  // The rotated file's stamp stays the newer one the other read recorded.
  return { rest: null, log: { ...log, rotatedStamp: current.rotatedStamp ?? "" } };
}

/**
 * Applies `read` through `ingestor` as far as {@link applicableRead} allows; a dropped read
 * changes nothing and reports nothing.
 */
export function applyReadSince(
  ingestor: LogIngestor,
  read: LogRead,
  basis: ReadBasis,
  current: LogOffset | null,
): ReadResult {
  const fits = applicableRead(read, basis, current);
  if (fits) return ingestor.applyRead(fits);
  return { ...emptyIngestResult(), identityChanged: false, rewritten: false, torn: false };
}
