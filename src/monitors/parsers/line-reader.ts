import { readBareBars, readBracketBars, readProgressBars, readTqdmBars } from "./bar-counters.ts";
import { readBracketFractions, readFractionBeforeEpoch } from "./fraction-counters.ts";
import { readLabelledCounters, readSuffixedCounters } from "./labelled-counters.ts";
import { readLeadingCounter } from "./leading-counter.ts";
import { readLineMetrics } from "./line-metrics.ts";
import { type LineReading, LineScan } from "./line-reading.ts";
import { readLeadingColumn, readTableHeader } from "./table-columns.ts";
import { readTableRow } from "./table-rows.ts";

/**
 * Reads the counters, epoch, loss and step time printed on one log line (ANSI already removed).
 * Pure: the choice of which counter is the training step is the reader's, over many lines.
 * The tokenisers run in a fixed order, each skipping what an earlier one took: tqdm bars, bars
 * counted inside their bracket, bare bars, labelled counters, suffixed counters, Keras and rich
 * bars, bracketed fractions, a bare fraction just before the epoch label, a table's leading
 * column under `header` (the first column of the last table header seen), the line's metrics,
 * then a count that opens a loss line (`46: … loss`), which may name the loss itself.
 */
export function readLine(line: string, header: string | null): LineReading {
  const scan = new LineScan(line);
  if (!/\d/.test(line)) {
    scan.reading.header = readTableHeader(line);
    return scan.reading;
  }
  // A metrics table's row holds one key: read whole, nothing else reads it.
  if (readTableRow(scan)) return scan.reading;
  readTqdmBars(scan);
  readBracketBars(scan);
  readBareBars(scan);
  readLabelledCounters(scan);
  readSuffixedCounters(scan);
  readProgressBars(scan);
  readBracketFractions(scan);
  readFractionBeforeEpoch(scan);
  if (header !== null) readLeadingColumn(scan, header);
  readLineMetrics(scan);
  readLeadingCounter(scan);
  return scan.reading;
}
