import { shellQuote } from "../../transport/shell-quote.ts";
import {
  BATCH_FDS,
  checkedByHost,
  fastReadable,
  type LogReadRequest,
  PREFIX_BYTES,
} from "./log-section.ts";
import { concatenatedCksum } from "./prefix-sum.ts";

// The host-wide part of reading logs: which runs of a host probe open their logs together, the
// one `stat` that looks at a batch, and the one prefix check over every fast read. Each run's
// own read is its log section (log-section.ts).

/**
 * Which runs of a host probe are looked at together: those that may take the fast path, in
 * batches of {@link BATCH_FDS}, each run with its fd. The first run of each batch opens it
 * (see {@link buildLogBatch}).
 */
export function planLogBatches(runs: readonly LogReadRequest[]): {
  batchOf: Map<number, { fd: number; opens: number[] | null }>;
} {
  const eligible = runs
    .map((run, index) => ({ run, index }))
    .filter(({ run }) => fastReadable(run) && batchable(run))
    .map(({ index }) => index);
  const batchOf = new Map<number, { fd: number; opens: number[] | null }>();
  for (let at = 0; at < eligible.length; at += BATCH_FDS.length) {
    const batch = eligible.slice(at, at + BATCH_FDS.length);
    batch.forEach((index, slot) => {
      batchOf.set(index, { fd: BATCH_FDS[slot] as number, opens: slot === 0 ? batch : null });
    });
  }
  return { batchOf };
}

/** A log whose paths a stat line can name unambiguously (no newline) and that has a path. */
function batchable(run: LogReadRequest): boolean {
  return run.logPath !== "" && !/\n/.test(run.logPath) && !/\n/.test(run.rotatedPath);
}

/**
 * The sh that opens a batch of logs on {@link BATCH_FDS} and looks at them and their rotated
 * files with one `stat` (into `bst`): each run of the batch then reads its log on its fd.
 */
export function buildLogBatch(runs: readonly LogReadRequest[]): string {
  const fds = runs.map((_, slot) => BATCH_FDS[slot] as number);
  return [
    `exec ${BATCH_FDS.map((fd) => `${fd}<&-`).join(" ")}`,
    ...runs.map(
      (run, slot) => `{ command exec ${fds[slot]}<${shellQuote(run.logPath)}; } 2>/dev/null`,
    ),
    `bst=$(stat -L -c '%i %s %Y %n' -- ${fds.map((fd) => `/dev/fd/${fd}`).join(" ")} ${runs.map((run) => shellQuote(run.rotatedPath)).join(" ")} 2>/dev/null)`,
  ].join("\n");
}

/**
 * The sh a host probe runs after every run's log section: one `head | cksum` over the full
 * prefixes of all the logs looked at on the fast path (`$hc` lists those runs; a young log, see
 * youngLog, checks its short prefix itself), compared with the sum
 * their stored prefixes make together (see {@link concatenatedCksum}). Only when that differs
 * is each run's prefix checked alone. Prints `@@<nonce> hostcheck` and the indexes of the runs
 * whose file changed under the read.
 */
export function buildHostLogCheck(runs: readonly LogReadRequest[]): string {
  const group = runs
    .map((run, index) => ({ run, index }))
    .filter(({ run }) => fastReadable(run) && checkedByHost(run));
  const lines = ["printf '%s hostcheck' \"$M\""];
  if (group.length > 0) {
    const expected = concatenatedCksum(
      group.map(({ run }) => ({ sum: run.prefixSum, length: PREFIX_BYTES })),
    );
    lines.push(
      `if [ -n "$hc" ] && [ "$(head -q -c ${PREFIX_BYTES} -- ${group.map(({ run }) => shellQuote(run.logPath)).join(" ")} 2>/dev/null | cksum)" != ${shellQuote(expected)} ]; then`,
      "  for i in $hc; do",
      "    case $i in",
      ...group.map(
        ({ run, index }) =>
          `      ${index}) f=${shellQuote(run.logPath)}; s=${shellQuote(`${run.prefixSum} ${PREFIX_BYTES}`)};;`,
      ),
      "      *) f=; s=x;;",
      "    esac",
      `    [ "$(head -c ${PREFIX_BYTES} -- "$f" 2>/dev/null | cksum)" = "$s" ] || printf ' %s' "$i"`,
      "  done",
      "fi",
    );
  }
  lines.push("printf '\\n'");
  return lines.join("\n");
}
