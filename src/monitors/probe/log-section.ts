import { shellQuote } from "../../transport/shell-quote.ts";
import type { LogReset, ProbeLog } from "./probe-output.ts";

/** Bytes of the log's start whose `cksum` identifies the file beyond its inode. */
export const PREFIX_BYTES = 4096;

/**
 * A prefix checksum that no file matches (stored by earlier versions when the bytes before the
 * offset showed the file was not ours): the next read takes the file as new.
 */
export const PREFIX_MISMATCH = "mismatch";

/** What reading the log needs to know about the file read so far. */
export interface LogReadRequest {
  /** Absolute path of the training log on the VM. */
  logPath: string;
  /** Where a rotation leaves the previous file (`<log>.1`, as logrotate and Python name it). */
  rotatedPath: string;
  /** Inode the stored offset belongs to; null before the first attach. */
  inode: string | null;
  /** Bytes of the log already consumed. */
  offset: number;
  /** Hex of the bytes just before `offset`; "" when none. */
  anchor: string;
  /** Length and `cksum` CRC of the stored file's prefix; length 0 when not known. */
  prefixLength: number;
  prefixSum: string;
  /**
   * `inode size mtime` of the rotated file at the last read ("" when there was none): a copy
   * is taken for the rest of ours only when it changed since, so an old rotation that happens
   * to start with the same bytes is never read twice.
   */
  rotatedStamp: string;
  /** On first attach, read at most this many bytes from the end instead of the whole file. */
  backfillBytes: number;
  /** Read at most this many new bytes per section; the rest comes next read. */
  maxReadBytes: number;
  /**
   * Check the file in full on the VM before reading it (prefix, anchor, rotated file), as a
   * first read and one after a torn read must. False lets a read the file's stat shows to be
   * the same file, only grown, take the fast path (see {@link LOG_READ_FUNCTIONS}). Absent:
   * true.
   */
  verify?: boolean;
}

/**
 * Whether a read may take the fast path (see {@link buildLogSection}): the file was read before
 * without trouble (the daemon does not ask to verify it) and its stored prefix is a full
 * {@link PREFIX_BYTES}, so the prefix of any later read is the same number of bytes; or the log
 * is young (see {@link youngLog}).
 */
export function fastReadable(request: LogReadRequest): boolean {
  return (
    request.verify === false &&
    request.inode !== null &&
    request.inode !== "" &&
    /^[0-9]+$/.test(request.prefixSum) &&
    (fullPrefix(request) || youngLog(request))
  );
}

/** Whether the stored prefix is a full {@link PREFIX_BYTES} (the log has grown past it). */
function fullPrefix(request: LogReadRequest): boolean {
  return Math.floor(request.prefixLength) === PREFIX_BYTES;
}

/**
 * Whether a host probe checks this log's prefix in its one check for all its logs (see
 * buildHostLogCheck) rather than the read checking it itself: only a log the host names (not
 * a Slurm job's, named by the probe's prelude) with a full prefix (the host's check sums full
 * prefixes only; a young log checks its short one itself).
 */
export function checkedByHost(request: LogReadRequest): boolean {
  return request.logPath !== "" && fullPrefix(request);
}

/**
 * A log read so far only below {@link PREFIX_BYTES} (a run that just started): its stored prefix
 * is all it had, shorter than a full one. It may still take the fast path, checking that short
 * prefix itself before the read (a rewrite since the last read takes the slow path at once)
 * and, when it read bytes, after it (the host's one check sums full prefixes only): the slow
 * path would check the same prefix and anchor, with some twenty processes a read instead of
 * eight, for every read of the run's first minutes. Once the offset reaches a full prefix the next
 * read is a slow one, which stores the full prefix; the fast path keeps the stored one.
 */
export function youngLog(request: LogReadRequest): boolean {
  const length = Math.floor(request.prefixLength);
  return length >= 0 && length < PREFIX_BYTES && request.offset < PREFIX_BYTES;
}

/** Where a log section's check after the read is done. */
export interface LogSectionOptions {
  /**
   * Leave out the shell functions the section calls: a host probe defines them once
   * ({@link LOG_READ_FUNCTIONS}) for all its runs.
   */
  functions?: boolean;
  /**
   * The run's index in a host probe: a fast read's prefix is then checked once for all the
   * host's runs after every read (see {@link buildHostLogCheck}), not by the run itself.
   */
  hostIndex?: number;
  /**
   * The fd on which a host probe opened this log with others, looked at by one `stat` (see
   * {@link buildLogBatch}): the fast path reads it there instead of looking at it alone.
   */
  batchFd?: number;
}

/**
 * The shell functions every log section calls (`log_read`, after the section set its
 * variables): defined once per script.
 *
 * `log_read` opens each file once and then reads it through /dev/fd (a fresh open of the same
 * file on Linux): a rename between looking at a file and reading it cannot pass one file's bytes
 * off as another's. (`command` keeps a failed open from ending the script; fd 3 is its source.)
 *
 * The fast path (`log_fast`), taken when the daemon trusts the stored state (see
 * {@link fastReadable}), costs one `stat` of both files and, when the log grew, one `tail`:
 * when nothing was renamed (same inode, same rotated file) and the log is not shorter than the
 * offset, it reads from `offset - k`, so the bytes before the offset (the anchor) come with the
 * new ones and the daemon compares them; the prefix is checked after the read (by the run, or
 * once for the whole host), and before it too by a run that checks itself (see checkedByHost). Anything else, or a read the daemon found torn, takes the slow path
 * (`log_slow`): the file is the same one only when its inode matches, it is not shorter than
 * the offset, its first bytes have the stored checksum and the bytes before the offset are the
 * anchor; otherwise it was rotated, truncated or rewritten, and the unread end of the old file
 * is looked for in the rotated file (same prefix and anchor, longer than the offset) and sent
 * first, so lines written just before a rotation or a copytruncate are not lost. The current
 * file is read only once that rest is complete. A truncation during the read shows as fewer
 * bytes than the header announces.
 */
export const LOG_READ_FUNCTIONS = `lf='
'
prefix_ok() { [ "$plen" -ge 0 ] && { [ "$plen" -eq 0 ] || [ "$(head -c "$plen" -- "$1" 2>/dev/null | cksum)" = "$psum $plen" ]; }; }
# The bytes just before the offset are the ones consumed there (not a rewrite or a regrowth).
anchor_ok() { [ "$k" -eq 0 ] || [ "$(od -An -v -tx1 -j $((off - k)) -N "$k" -- "$1" 2>/dev/null | tr -d ' \\n')" = "$anchor" ]; }
log_read() {
  exec 7<&- 8<&-
  { command exec 7<"$log"; } 2>/dev/null
  { command exec 8<"$rot"; } 2>/dev/null
  restok=1; logok=1
  if [ "$fast" != 1 ] || ! log_fast; then log_slow; fi
  exec 7<&- 8<&-
  printf '\\n%s check %s %s\\n' "$M" "$restok" "$logok"
}
# The \`inode size mtime\` of the name $2 in $1, lines of \`stat -c '%i %s %Y %n'\`, into sv.
stat_of() {
  sv=; case "$1$lf" in *" $2$lf"*) ;; *) return 0;; esac
  sv="$1$lf"; sv=\${sv%%" $2$lf"*}; sv=\${sv##*"$lf"}
}
log_fast() {
  # A host probe looked at this log with others at once (open on fd $bfd, stat in $bst).
  if [ -n "$bfd" ]; then src=/dev/fd/$bfd; ost=$bst; rname=$rot
  else src=/dev/fd/7; rname=/dev/fd/8; ost=$(stat -L -c '%i %s %Y %n' -- /dev/fd/7 /dev/fd/8 2>/dev/null); fi
  stat_of "$ost" "$src"; l=$sv
  stat_of "$ost" "$rname"; rstamp=$sv
  [ -n "$l" ] || return 1
  inode=\${l%% *}; size=\${l#* }; size=\${size%% *}
  [ "$inode" = "$prev_inode" ] && [ "$size" -ge "$off" ] && [ "$rstamp" = "$pstamp" ] || return 1
  # A log that checks itself (young, or a Slurm job's) checks its prefix first too: rewritten
  # in place since the last read (a restart writing it anew), it takes the slow path now, in
  # this read, not a poll later.
  [ -n "$hi" ] || prefix_ok "$src" || return 1
  printf '%s rest\\nnone\\n\\n%s log\\n' "$M" "$M"
  if [ "$size" -gt "$off" ]; then start=$((off - k)); else start=$off; fi
  n=$((size - start)); [ "$n" -gt "$cap" ] && n=$cap
  printf 'present %s %s %s %s none %s %s %s\\n' "$inode" "$size" "$start" "$n" "$psum" "$plen" "$rstamp"
  # Up to the end unless capped: bytes written since the stat are dropped by the daemon.
  if [ "$n" -ge $((size - start)) ]; then [ "$n" -eq 0 ] || tail -c +$((start + 1)) -- "$src" 2>/dev/null
  else tail -c +$((start + 1)) -- "$src" 2>/dev/null | head -c "$n"; fi
  # Still the file looked at? Its prefix after the read says it was not rewritten meanwhile (a
  # host checks every log it looked at, grown or not, at once).
  if [ -z "$hi" ]; then [ "$n" -eq 0 ] || prefix_ok "$src" || logok=0
  elif [ "$src" -ef "$log" ]; then logok=h; hc="$hc $hi"
  else logok=0; fi
  return 0
}
log_slow() {
reset=missing
if st=$(stat -L -c '%i %s' -- /dev/fd/7 2>/dev/null); then
  inode=\${st% *}; size=\${st#* }
  if [ -z "$prev_inode" ]; then reset=attach
  elif [ "$inode" = "$prev_inode" ] && [ "$size" -ge "$off" ] && prefix_ok /dev/fd/7 && anchor_ok /dev/fd/7; then reset=none
  elif [ "$inode" != "$prev_inode" ]; then reset=rotated
  else reset=truncated
  fi
fi
rstamp=$(stat -L -c '%i %s %Y' -- /dev/fd/8 2>/dev/null)
printf '%s rest\\n' "$M"
rfrom=
if [ -n "$prev_inode" ] && [ -n "$rstamp" ] && [ "$rstamp" != "$pstamp" ]; then
  # The rotated file changed since the last read (or the rest of one is still being read): a
  # rotation happened since.
  rinode=\${rstamp%% *}; rsize=\${rstamp#* }; rsize=\${rsize% *}
  pinode=\${pstamp%% *}; psize=\${pstamp#* }; psize=\${psize% *}; [ -n "$psize" ] || psize=0
  if [ "$rsize" -ge "$off" ] && prefix_ok /dev/fd/8 && anchor_ok /dev/fd/8; then
    # It is ours up to the offset: ours renamed, or a copy of ours (copytruncate). Unless the
    # current file still holds all of it (logrotate's copy), its end past the offset is unread.
    if [ "$rinode" = "$prev_inode" ] || [ "$reset" != none ] || ! head -c "$rsize" -- /dev/fd/7 2>/dev/null | cmp -s - /dev/fd/8; then
      [ "$reset" = none ] && reset=truncated
      [ "$rsize" -gt "$off" ] && rfrom=$((off - k)) && rreset=none && rpre=
    fi
  elif [ "$rinode" = "$prev_inode" ] && [ "$rsize" -gt 0 ]; then
    # Ours, truncated or rewritten and then renamed: all of it is unread.
    rfrom=0; rreset=truncated; rpre=$(head -c ${PREFIX_BYTES} -- /dev/fd/8 2>/dev/null | cksum)
  elif [ "$reset" != none ] && [ "$rsize" -gt 0 ] && { [ "$rinode" != "$pinode" ] || [ "$rsize" -lt "$psize" ]; }; then
    # Ours is gone and another file took the rotated name since the last read (not the old
    # one grown by a writer that kept it open): it came after ours, all of it is unread.
    rfrom=0; rreset=truncated; rpre=$(head -c ${PREFIX_BYTES} -- /dev/fd/8 2>/dev/null | cksum)
  fi
fi
rest=0
if [ -n "$rfrom" ]; then
  rn=$((rsize - rfrom)); [ "$rn" -gt "$cap" ] && rn=$cap
  printf 'present %s %s %s %s %s %s\\n' "$rinode" "$rsize" "$rfrom" "$rn" "$rreset" "$rpre"
  tail -c +$((rfrom + 1)) -- /dev/fd/8 2>/dev/null | head -c "$rn"
  rest=1; [ $((rfrom + rn)) -lt "$rsize" ] && rest=2
  # Still the file looked at? (Overwritten by another copy, or truncated and written again,
  # while it was read, its bytes are not what the header says.)
  if [ "$rreset" = none ]; then prefix_ok /dev/fd/8 && anchor_ok /dev/fd/8 || restok=0
  else [ "$(head -c "\${rpre#* }" -- /dev/fd/8 2>/dev/null | cksum)" = "$rpre" ] || restok=0; fi
  [ "$(stat -L -c %s -- /dev/fd/8 2>/dev/null || echo 0)" -ge $((rfrom + rn)) ] || restok=0
else
  printf 'none\\n'
fi
printf '\\n%s log\\n' "$M"
if [ "$rest" = 2 ]; then printf 'later\\n'
elif [ "$reset" = missing ]; then printf 'missing\\n'
else
  case $reset in attach) start=$((size > backfill ? size - backfill : 0));; none) start=$((off - k));; *) start=0;; esac
  n=$((size - start)); [ "$n" -gt "$cap" ] && n=$cap
  if [ "$reset" = none ] && [ "$plen" -eq ${PREFIX_BYTES} ]; then pre="$psum $plen"
  else pre=$(head -c ${PREFIX_BYTES} -- /dev/fd/7 2>/dev/null | cksum); fi
  printf 'present %s %s %s %s %s %s %s\\n' "$inode" "$size" "$start" "$n" "$reset" "$pre" "$rstamp"
  if [ "$n" -gt 0 ]; then tail -c +$((start + 1)) -- /dev/fd/7 2>/dev/null | head -c "$n"; fi
  [ "$(head -c "\${pre#* }" -- /dev/fd/7 2>/dev/null | cksum)" = "$pre" ] || logok=0
  [ "$(stat -L -c %s -- /dev/fd/7 2>/dev/null || echo 0)" -ge $((start + n)) ] || logok=0
fi
}`;

/**
 * The sh that reads the log from the stored offset (after `M` holds the marker), as two sections (`@@<nonce> rest` and
 * `@@<nonce> log`) and a check line: it sets the read's variables and calls `log_read` (see
 * {@link LOG_READ_FUNCTIONS}, included unless `options.functions` is false).
 */
export function buildLogSection(request: LogReadRequest, options: LogSectionOptions = {}): string {
  const anchor = /^[0-9a-f]*$/.test(request.anchor) ? request.anchor : "";
  const sum = /^[0-9]+$/.test(request.prefixSum) ? request.prefixSum : "";
  const prefixLength =
    request.prefixSum === PREFIX_MISMATCH
      ? -1
      : sum === ""
        ? 0
        : Math.max(0, Math.floor(request.prefixLength));
  const stamp = /^[0-9 ]*$/.test(request.rotatedStamp) ? request.rotatedStamp : "";
  // An empty path: the log is the Slurm job's StdOut, set in \`log\` by the probe's prelude.
  const logLines =
    request.logPath === ""
      ? // biome-ignore lint/suspicious/noTemplateCurlyInString: sh's parameter expansion, not a template
        'log=${log:-}\nrot="$log.1"'
      : `log=${shellQuote(request.logPath)}\nrot=${shellQuote(request.rotatedPath)}`;
  const index = checkedByHost(request) ? options.hostIndex : undefined;
  return `${options.functions === false ? "" : `${LOG_READ_FUNCTIONS}\n`}${logLines}
prev_inode=${shellQuote(request.inode ?? "")}
off=${Math.max(0, Math.floor(request.offset))}
anchor=${shellQuote(anchor)}
k=$((\${#anchor} / 2))
plen=${prefixLength}
psum=${shellQuote(sum)}
pstamp=${shellQuote(stamp)}
backfill=${Math.max(0, Math.floor(request.backfillBytes))}
cap=${Math.max(1, Math.floor(request.maxReadBytes))}
fast=${fastReadable(request) ? 1 : 0}; hi=${index !== undefined && Number.isInteger(index) && index >= 0 ? index : ""}; bfd=${options.batchFd !== undefined && BATCH_FDS.includes(options.batchFd) ? options.batchFd : ""}
log_read`;
}

/**
 * The fds a host probe opens logs on, a batch at a time (POSIX sh has fds 0 to 9: 0 to 2 are
 * the standard ones, 3 holds the script, 7 and 8 are each read's own).
 */
export const BATCH_FDS: readonly number[] = [4, 5, 6, 9];

/** Raised when the log sections are not what {@link buildLogSection} prints. */
export class LogSectionError extends Error {
  override readonly name = "LogSectionError";
}

/**
 * Splits the two log sections out of `stdout`, from `${mark} rest`. Bytes run up to the next
 * marker, which carries the read's random nonce, so no log content can end a section early.
 * Returns the sections and the index of the newline that opens the marker after them;
 * `hostChecked` when the log's check is the host's (see {@link buildHostLogCheck}): the log
 * counts as changed until the caller applies that check.
 */
export function parseLogSections(
  stdout: Buffer,
  mark: string,
): {
  rest: (ProbeLog & { present: true }) | null;
  log: ProbeLog;
  end: number;
  hostChecked: boolean;
} {
  const restPart = section(stdout, mark, "rest", 0);
  const logPart = section(stdout, mark, "log", restPart.end);
  const restHeader = restPart.header.split(" ");
  const rest =
    restHeader[0] === "present"
      ? (present(restHeader, restPart.bytes) as ProbeLog & { present: true })
      : null;
  const logHeader = logPart.header.split(" ");
  let log: ProbeLog;
  if (logHeader[0] === "present") log = present(logHeader, logPart.bytes);
  else if (logHeader[0] === "later") log = { present: false, deferred: true };
  else log = { present: false };
  // The files as they were after the read: a 0 says one changed under it.
  const check = Buffer.from(`\n${mark} check `);
  if (!stdout.subarray(logPart.end, logPart.end + check.length).equals(check)) {
    throw new LogSectionError("probe output has no check after the log section");
  }
  const checkEnd = stdout.indexOf(0x0a, logPart.end + check.length);
  if (checkEnd < 0) throw new LogSectionError("probe output was cut short in the check section");
  const [restOk, logOk] = stdout
    .subarray(logPart.end + check.length, checkEnd)
    .toString("utf8")
    .split(" ");
  if (rest && restOk === "0") rest.changed = true;
  if (log.present && (logOk === "0" || logOk === "h")) log.changed = true;
  return { rest, log, end: checkEnd, hostChecked: log.present && logOk === "h" };
}

function section(
  stdout: Buffer,
  mark: string,
  name: string,
  from: number,
): { header: string; bytes: Buffer; end: number } {
  const head = Buffer.from(`${mark} ${name}\n`);
  const at = stdout.indexOf(head, from);
  if (at < 0) throw new LogSectionError(`probe output has no ${name} section`);
  const headerStart = at + head.length;
  const headerEnd = stdout.indexOf(0x0a, headerStart);
  const end = stdout.indexOf(Buffer.from(`\n${mark} `), headerStart);
  if (headerEnd < 0 || end < 0 || end < headerEnd) {
    throw new LogSectionError(`probe output was cut short in the ${name} section`);
  }
  return {
    header: stdout.subarray(headerStart, headerEnd).toString("utf8"),
    // The newline printed after the bytes opens the next marker, so it is excluded.
    bytes: stdout.subarray(headerEnd + 1, end),
    end,
  };
}

function present(header: string[], bytes: Buffer): ProbeLog {
  const [, inode, size, start, count, reset, crc, length, ...stamp] = header;
  const prefix =
    crc !== undefined && /^\d+$/.test(crc) && length !== undefined && /^\d+$/.test(length)
      ? { length: Number(length), sum: crc }
      : undefined;
  const announced = count !== undefined && /^\d+$/.test(count) ? Number(count) : undefined;
  return {
    present: true,
    inode: inode ?? "",
    size: Number(size),
    start: Number(start),
    // A read to the end may bring bytes written after the look at the file: they come next read.
    bytes:
      announced !== undefined && bytes.length > announced ? bytes.subarray(0, announced) : bytes,
    ...(announced !== undefined ? { announced } : {}),
    reset: (reset as LogReset) ?? "none",
    ...(prefix ? { prefix } : {}),
    rotatedStamp: stamp.join(" "),
  };
}

/**
 * A script that only reads the log (the two sections of {@link buildLogSection} and an end
 * marker): what a follow stream's wake-up runs between polls.
 */
export function buildLogReadScript(request: LogReadRequest, nonce: string): string {
  const mark = `@@${nonce}`;
  return `LC_ALL=C; export LC_ALL
M=${shellQuote(mark)}
${buildLogSection(request)}
printf '%s end\\n' "$M"
`;
}
