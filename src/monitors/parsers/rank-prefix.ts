import type { ClassifiedEvent } from "../../model/monitoring.ts";

/** One log line with the rank or node prefix a multi-node launcher put on it taken off. */
export interface RankedLine {
  /** The line as the training process printed it. */
  text: string;
  /** Global or local rank, when the prefix gives one (`[rank 1]`, `1: `, `[default1]:`). */
  rank: number | null;
  /** Node name, when the prefix gives one (`n2: `). */
  node: string | null;
}

/**
 * Prefixes launchers put on each rank's lines: PyTorch's `[rank1]:` / `[rank 1]`, torchrun's
 * `[default0]:` (role and local rank), `srun --label`'s `1: ` and a node name (`n2: `, as
 * `pdsh`-style tools print). Only the first two are unambiguous; the others are read only where
 * the job is known to run on several nodes.
 */
const RANK_PATTERNS: ReadonlyArray<{ re: RegExp; labelled: boolean }> = [
  { re: /^\[rank\s?(\d+)\]:?\s?(.*)$/i, labelled: false },
  { re: /^\[[A-Za-z_]*?(\d+)\]:(.*)$/, labelled: false },
  { re: /^\s{0,4}(\d{1,5}): (.*)$/, labelled: true },
];
const NODE_PATTERN = /^([A-Za-z][\w.-]*\d): (.*)$/;

/** Splits the launcher's prefix off a line; `labelled` also reads `1: ` and `n2: `. */
export function splitRankPrefix(line: string, labelled: boolean): RankedLine {
  for (const { re, labelled: needsLabels } of RANK_PATTERNS) {
    if (needsLabels && !labelled) continue;
    const match = re.exec(line);
    if (match) return { text: match[2] ?? "", rank: Number(match[1]), node: null };
  }
  if (labelled) {
    const match = NODE_PATTERN.exec(line);
    if (match) return { text: match[2] ?? "", rank: null, node: match[1] ?? null };
  }
  return { text: line, rank: null, node: null };
}

/**
 * Reads a multi-node log as one job: progress from rank 0 or the lowest rank that prints steps
 * (every rank printing the same step must count once), errors from any rank, tagged with the
 * rank and node so the alert can say where. Composes with any step parser and classifier: it
 * only rewrites lines before them and decides which parsed steps count.
 */
export class RankedLogReader {
  /** The rank (or node) whose steps count; the lowest seen printing steps. */
  private progressSource: string | null = null;

  constructor(private readonly labelled: boolean) {}

  /** The line without its prefix, and where it came from. */
  route(line: string): RankedLine {
    return splitRankPrefix(line, this.labelled);
  }

  /** Whether a step parsed from this line is the job's progress (rank 0 or the lowest). */
  acceptStep(line: RankedLine): boolean {
    const source = sourceKey(line);
    if (source === null) return true;
    if (this.progressSource === null || compareSources(source, this.progressSource) < 0) {
      this.progressSource = source;
    }
    return source === this.progressSource;
  }

  /** The classifier state to use for this line: ranks' tracebacks interleave. */
  streamOf(line: RankedLine): string {
    return sourceKey(line) ?? "";
  }

  /** Adds the rank and node to an event from a prefixed line. */
  tag(event: ClassifiedEvent, line: RankedLine): ClassifiedEvent {
    if (line.rank === null && line.node === null) return event;
    return {
      ...event,
      detail: {
        ...event.detail,
        ...(line.rank !== null ? { rank: line.rank } : {}),
        ...(line.node !== null ? { node: line.node } : {}),
      },
    };
  }
}

function sourceKey(line: RankedLine): string | null {
  if (line.rank !== null) return `rank:${line.rank}`;
  if (line.node !== null) return `node:${line.node}`;
  return null;
}

function compareSources(a: string, b: string): number {
  return a.localeCompare(b, "en", { numeric: true });
}
