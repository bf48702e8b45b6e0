import type { ClassifiedEvent, ErrorKind } from "../../model/monitoring.ts";
import { stripAnsi } from "./strip-ansi.ts";

/**
 * The single-line signatures of each error kind, and how specific each kind is. A multi-line
 * event (a traceback) takes the most specific kind any of its lines shows.
 */

/** Lower is more specific: an OOM traceback is `cuda_oom`, not `traceback`. */
export const KIND_RANK: Readonly<Record<ErrorKind, number>> = {
  cuda_oom: 0,
  host_oom_kill: 1,
  shm_exhausted: 2,
  worker_killed: 3,
  gpu_fault: 4,
  cuda_error: 5,
  nccl_timeout: 6,
  nan_loss: 7,
  interrupted: 8,
  killed: 9,
  traceback: 10,
};

type Detail = Record<string, string | number>;

interface Rule {
  kind: ErrorKind;
  pattern: RegExp;
  detail?: (text: string) => Detail;
}

function pick(text: string, fields: Record<string, RegExp>): Detail {
  const detail: Detail = {};
  for (const [key, regex] of Object.entries(fields)) {
    const m = regex.exec(text);
    const value = m?.slice(1).find((v) => v !== undefined);
    if (value === undefined) continue;
    detail[key] = /^\d+$/.test(value) ? Number(value) : value.trim();
  }
  return detail;
}

// SIGKILL as the shell (or a job-control line) reports it, in the locales glibc translates.
const KILLED_WORDS =
  "Killed|Getötet|Processus arrêté|Terminado \\(killed\\)|Ucciso|Morto|Убито|Убит|已杀死|已殺死|強制終了|죽었음|Unicestwiony|Gedood|Geëlimineerd|Dödad|Zabit|Öldürüldü|Megölve";
// A native crash as the shell reports it (glibc's signal names, bash's `(core dumped)`), in the
// locales seen in training logs: `已放弃 (核心已转储)`, `Speicherzugriffsfehler (Speicherabzug
// geschrieben)`. Only a whole line, or the end of a bar's line: these are common words in other
// sentences.
const CRASH_WORDS =
  "Segmentation fault|Aborted|已放弃|段错误|已中止|Abgebrochen|Speicherzugriffsfehler|Erreur de segmentation|Abandon|Violación de segmento|Abortado|Falha de segmentação|Errore di segmentazione|Annullato|Ошибка сегментирования|Аварийный останов|セグメンテーション違反です|中止|세그멘테이션 오류|중지됨";
const CORE_DUMPED =
  "\\((?:core dumped|核心已转储|Speicherabzug geschrieben|コアダンプ|[^()]{1,40})\\)";
/** A native crash word that ends its line, with its `(core dumped)` if any. */
const CRASH_ENDING = `(?:${CRASH_WORDS})(?:\\s*${CORE_DUMPED})?\\s*$`;
/** The crash's own name on its line, as the detail's `signal` (translated words as printed). */
const CRASH_SIGNAL = new RegExp(
  `(Fatal Python error: \\w+|${CRASH_WORDS}|SIG(?:ILL|ABRT|FPE|SEGV))|exitcode\\s*:\\s*-(4|6|8|11)\\b`,
);
const SHELL_KILLED = new RegExp(
  `^(?:.*?: line \\d+:\\s+\\d+\\s+|\\[\\d+\\][+-]?\\s+(?:\\d+\\s+)?)?(?:${KILLED_WORDS})(?:\\s{2,}\\S.*|\\s+\\(core dumped\\))?\\s*$`,
);

const RULES: readonly Rule[] = [
  {
    kind: "cuda_oom",
    // PyTorch 0.x (`cuda runtime error (2) : out of memory`, `THCudaCheck FAIL … out of
    // memory`) to 2.x, TensorFlow (`ResourceExhaustedError`, `OOM when allocating tensor`),
    // JAX/XLA (`RESOURCE_EXHAUSTED: Out of memory`), the CUDA driver, and cuBLAS/cuDNN failing
    // to allocate or to start (which they do when the GPU memory is full).
    pattern:
      /CUDA out of memory|\bOutOfMemoryError\b|CUDA error: out of memory|cuda runtime error \(2\)|THCudaCheck FAIL[^\n]*out of memory|CUDA_ERROR_OUT_OF_MEMORY|CUBLAS_STATUS_ALLOC_FAILED|CUDNN_STATUS_ALLOC_FAILED|CUBLAS_STATUS_NOT_INITIALIZED|CUDNN_STATUS_NOT_INITIALIZED|cudaErrorMemoryAllocation|HIP out of memory|MPS backend out of memory|RESOURCE_EXHAUSTED: Out of memory|ResourceExhaustedError|OOM when allocating tensor|cudaSuccess[^\n]*out of memory|Cuda failure \d+ 'out of memory'/,
    detail: (t) => {
      const detail = pick(t, {
        triedToAllocate: /Tried to allocate ([\d.]+ ?[KMGT]i?B)/,
        gpu: /\bGPU (\d+)\b/,
        shape: /OOM when allocating tensor with shape\s*\[?([\d,\s]+)\]?/,
      });
      if (/STATUS_NOT_INITIALIZED/.test(t))
        detail.reason = "cuBLAS/cuDNN could not start: GPU memory full";
      return detail;
    },
  },
  {
    kind: "host_oom_kill",
    // The kernel's own words, and Slurm's for a job step its memory cgroup killed (`slurmstepd:
    // error: Detected 1 oom-kill event(s) in StepId=…`, `… 2 oom_kill events …`, then srun's
    // `error: node: task 0: Out Of Memory`).
    pattern:
      /\bOut of memory: Kill(?:ed)? process\b|\boom-kill:|^(?:\[[^\]]*\]\s*)?Killed process \d+ \(|invoked oom-killer|Memory cgroup out of memory|\bDetected \d+ oom[-_]kill events?\b|\btasks? [\d,-]+: Out Of Memory\b/,
    detail: (t) =>
      pick(t, {
        pid: /Kill(?:ed)? process (\d+)|\bpid=(\d+)/,
        process: /Kill(?:ed)? process \d+ \(([^)]+)\)|\btask=([^,\s]+)/,
        anonRssKiB: /anon-rss:(\d+)kB/,
      }),
  },
  {
    kind: "shm_exhausted",
    pattern:
      /(?<!PCIe )\bbus error\b(?!: severity=)|insufficient shared memory|out of shared memory|No space left on device[^\n]*\/dev\/shm|\/dev\/shm[^\n]*No space left|unable to (?:open|write to) shared memory|unable to write to file <\/torch_/i,
    detail: (t) => pick(t, { pid: /\bpid (\d+)\b/ }),
  },
  {
    kind: "worker_killed",
    pattern:
      /DataLoader worker \(pid(?:\(s\))? [\d, ]+\) (?:is killed by signal|exited unexpectedly)/,
    detail: (t) =>
      pick(t, {
        pid: /DataLoader worker \(pid(?:\(s\))? (\d+)/,
        signal: /killed by signal: ([^.]+)/,
      }),
  },
  {
    kind: "gpu_fault",
    pattern:
      /\bNVRM: Xid\b|\bXid \(PCI:|fallen off the bus|\bGPU is lost\b|uncorrectable ECC error|Double Bit ECC Error/i,
    detail: (t) =>
      pick(t, {
        xid: /Xid \([^)]*\): (\d+)/,
        pci: /Xid \(PCI:([^)]+)\)|NVIDIA GPU ([0-9a-fA-F:.]+)/,
        pid: /\bpid='?(\d+)/,
        process: /\bname=([^,\s<][^,\s]*)/,
      }),
  },
  {
    kind: "cuda_error",
    // NCCL's words for a CUDA call that failed under it (`NCCL Error 1: unhandled cuda error`,
    // `ncclUnhandledCudaError`, `NCCL WARN Cuda failure 999 'unknown error'`).
    pattern:
      /CUDA error: \S|unhandled cuda error|ncclUnhandledCudaError|\bCuda failure \d+|illegal memory access|device-side assert(?:ion)? triggered|CUBLAS_STATUS_[A-Z_]+|CUDNN_STATUS_[A-Z_]+|\bcudaError[A-Z]\w+|unspecified launch failure|misaligned address|illegal instruction was encountered/,
    detail: (t) =>
      pick(t, {
        message: /CUDA error: (.+?)\s*$/,
        type: /<class '([\w.]+)'>/,
        rank: /\[(?:PG \d+ )?Rank (\d+)\]/,
      }),
  },
  {
    kind: "nccl_timeout",
    // Torch 2.2+ adds a heartbeat over the watchdog itself: when collectives hang so long that
    // the watchdog stops making progress, `Heartbeat monitor timed out! Process will be
    // terminated…` and `ProcessGroupNCCL's watchdog got stuck for 480 seconds…` end the rank.
    pattern:
      /Watchdog caught collective|\(either an error or timeout\) detected by watchdog|NCCL (?:communicator|watchdog|operation)[^\n]*(?:timed out|timeout)|Timed out waiting \d+ ?ms for (?:recv|send) operation|\bwatchdog got stuck for \d+ seconds without making progress|Heartbeat monitor timed out! Process will be terminated/i,
    detail: (t) =>
      pick(t, {
        rank: /\[(?:PG [^\]]*?)?Rank (\d+)\]/,
        seqNum: /SeqNum=(\d+)|at work: (\d+)/,
        op: /OpType=(\w+)/,
        timeoutMs: /Timeout\(ms\)=(\d+)/,
      }),
  },
  {
    kind: "nan_loss",
    pattern: new RegExp(
      [
        String.raw`\b(?!loss_scale)\w*loss\w*['"]?\s*[:=]\s*['"]?(?:tensor\()?[-+]?(?:nan|inf)\b`,
        // `[Loss] nan`, `train_loss nan`, `loss -inf`: any label form, a space will do.
        String.raw`\b(?!loss_scale)\w*loss\w*['"]?\]?\s+['"]?(?:tensor\()?[-+]?(?:nan|inf)\b`,
        "Loss became infinite or NaN",
        String.raw`\bloss (?:is|became|went|was) (?:nan|inf|infinite)\b`,
        String.raw`\bnon-finite loss\b`,
        // A loss named for what it measures: cross-entropy or its exponential, the perplexity.
        String.raw`\b(?:xent|cross[_ -]?entropy|ppl|perplexity)['"]?\s*[:=]?\s*['"]?[-+]?(?:nan|inf)\b`,
        // Autograd's anomaly mode names the backward function that made the NaN.
        String.raw`\breturned nan values in its \w+ output`,
        // Keras' TerminateOnNaN callback.
        String.raw`\bInvalid loss, terminating training\b`,
        // Megatron's own NaN check on the gradient norm, which stops the run
        // (`Rank 3: found NaN in local grad norm in backwards pass`).
        String.raw`\bfound (?:NaN|Inf) in local grad norm\b`,
        // A fastprogress bar (fastai) shows the smoothed loss as its comment: `[6930/9707 3:56:27<1:34:45 nan]`.
        String.raw`\[\s*\d+\s*\/\s*\d+\s+[\d:]+\s*<\s*[\d:]+\s+[-+]?(?:nan|inf)\]`,
        String.raw`\bNaN loss\b`,
        // A Hugging Face metrics dict with a loss of exactly 0.0: an overflow or an
        // all-ignored batch hides behind it, as NaN does.
        String.raw`'loss':\s*0\.0(?![\d.e])`,
      ].join("|"),
      "i",
    ),
    detail: (t) =>
      /'loss':\s*0\.0(?![\d.e])/.test(t)
        ? { reason: "loss is exactly 0.0" }
        : pick(t, { iteration: /iteration=(\d+)/ }),
  },
  {
    kind: "interrupted",
    // A bare KeyboardInterrupt, and Lightning's graceful shutdown on Ctrl-C.
    pattern: /^\s*KeyboardInterrupt\b|Detected KeyboardInterrupt, attempting graceful shutdown/,
  },
  {
    kind: "killed",
    // The shell's `Killed` (alone, or glued after a progress bar that never printed its line
    // break), and torchrun/elastic reporting a worker dead by SIGKILL or SIGTERM.
    pattern: new RegExp(
      [
        SHELL_KILLED.source,
        `(?:\\]|\\|)\\s*(?:${KILLED_WORDS})\\s*$`,
        "Signal (?:9|15) \\(SIG(?:KILL|TERM)\\) received by PID \\d+",
        "\\bexitcode\\s*:\\s*-(?:9|15)\\b",
      ].join("|"),
    ),
    detail: (t) =>
      pick(t, {
        pid: /received by PID (\d+)|\(pid: (\d+)\)|line \d+:\s+(\d+)\s/,
        signal: /\((SIG[A-Z]+)\) received|exitcode\s*:\s*-(9|15)\b/,
        rank: /local_rank: (\d+)/,
      }),
  },
  {
    kind: "traceback",
    // A native crash has no Python traceback: the shell's or Python's own word for it is the
    // crash (`Segmentation fault (core dumped)`, bash's `run.sh: line 5:  4242 Aborted  (core
    // dumped) python train.py`, `Fatal Python error: Aborted`), and torchrun/elastic reporting a
    // worker dead of a crash signal (`exitcode  : -6`, `Signal 6 (SIGABRT) received by PID 42`).
    // Glued after a progress bar that never broke its line (`…9.51it/s]Fatal Python error:
    // Segmentation fault`) it is the crash all the same.
    pattern: new RegExp(
      [
        `^(?:.*[\\]|]\\s*)?${CRASH_ENDING}`,
        ": line \\d+:\\s+\\d+\\s+(?:Segmentation fault|Aborted)\\b",
        "(?:^|[\\]|]\\s*)Fatal Python error: ",
        "Signal (?:4|6|8|11) \\(SIG(?:ILL|ABRT|FPE|SEGV)\\) received by PID \\d+",
        "\\bexitcode\\s*:\\s*-(?:4|6|8|11)\\b",
      ].join("|"),
    ),
    detail: (t) =>
      pick(t, {
        signal: CRASH_SIGNAL,
        pid: /received by PID (\d+)|\(pid: (\d+)\)/,
        rank: /local_rank: (\d+)/,
      }),
  },
];

/**
 * Every rule needs one of these words. One pass of this regex rejects the ordinary line (nearly
 * all of a log) before the rules run one by one. Explicit cases instead of the i flag: faster.
 */
const TRIGGER = new RegExp(
  [
    "[Oo]ut of memory|OutOfMemory|CUBLAS_STATUS|CUDNN_STATUS|cudaError|RESOURCE_EXHAUSTED",
    "ResourceExhausted|OOM when allocating|OUT_OF_MEMORY|cuda runtime error",
    "oom-kill|oom_kill|Out Of Memory|Killed process|Memory cgroup|[Bb]us error|BUS ERROR|shared memory|/dev/shm|</torch_",
    "DataLoader worker|Xid|fallen off the bus|GPU is lost|ECC [Ee]rror|uncorrectable ECC",
    "CUDA error|illegal memory access|illegal instruction|device-side assert|launch failure",
    "misaligned address|[Ww]atchdog|NCCL",
    "Timed out waiting|Heartbeat monitor",
    "\\b(?:nan|NaN|NAN|inf|Inf|INF|infinite)\\b|non-finite|'loss':\\s*0\\.0|Invalid loss",
    "KeyboardInterrupt|SIGKILL|SIGTERM|SIGABRT|SIGSEGV|SIGILL|SIGFPE|exitcode|Segmentation fault",
    "Aborted|Fatal Python error",
    KILLED_WORDS,
  ].join("|"),
);
/**
 * A native crash in another locale ends its line (`已放弃 (核心已转储)`): tested on the line's tail
 * only, after the trigger, so ordinary lines pay for a few dozen characters, not the whole line.
 */
const CRASH_TAIL = new RegExp(CRASH_ENDING);
const TAIL_CHARS = 72;

/**
 * The characters a translated crash line can end with: `)` or the last letter of one of the
 * words (the English ones are trigger words already).
 */
const CRASH_LAST = new Set([
  ")",
  ...CRASH_WORDS.split("|")
    .filter((w) => w !== "Segmentation fault" && w !== "Aborted")
    .map((w) => w.slice(-1)),
]);

/** Whether a line that no trigger word opens may still end in a native crash word. */
function endsInCrash(text: string): boolean {
  let end = text.length - 1;
  while (end >= 0 && (text[end] === " " || text[end] === "\t")) end -= 1;
  if (end < 0 || !CRASH_LAST.has(text[end] as string)) return false;
  return CRASH_TAIL.test(text.length > TAIL_CHARS ? text.slice(-TAIL_CHARS) : text);
}

const WARNING_LINE = /^(?:[^:]*:\d+: )?\w*Warning: /;

/** Words of a Python traceback or an error message that no rule names on its own. */
const ERRORISH = /Traceback|Error|Exception|error|Abort|abort|Segmentation fault|core dumped/;

/**
 * Whether some text (any number of lines) may hold an error event: what makes a follow stream
 * read the log at once. False for ordinary progress, true for every line a rule matches.
 */
export function mayHoldError(text: string): boolean {
  return TRIGGER.test(text) || ERRORISH.test(text) || endsInCrash(text);
}

/** The first rule (most specific kind) that a line matches, as an event; null for normal lines. */
export function classifyText(text: string): { kind: ErrorKind; detail: Detail } | null {
  if (!TRIGGER.test(text) && !endsInCrash(text)) return null;
  // A warning (`UserWarning: …`, `FutureWarning: …`) names risks; it reports none.
  if (WARNING_LINE.test(text)) return null;
  for (const rule of RULES) {
    if (rule.pattern.test(text)) return { kind: rule.kind, detail: rule.detail?.(text) ?? {} };
  }
  return null;
}

/** Text of a log line, ready for matching; `prefixed` says a container prefix was removed. */
export interface NormalizedLine {
  text: string;
  prefixed: boolean;
}

const LITERAL_ESCAPE = /ESC\[[0-9;]*m/g;
// `docker compose logs`: `<service>-1  | message`.
const COMPOSE_PREFIX = /^[\w.-]+\s+\| ?/;
// A log viewer's line numbers (`[1745] `) and PyTorch's per-rank prefix (`[rank5]:`).
const LINE_NUMBER_PREFIX = /^\[\d+\] /;
const RANK_PREFIX = /^\[rank\d+\]:/;
// A terminal that hard-wrapped a long line pads each piece with a long run of spaces.
const WRAP_PADDING = / {40,}/g;
const FORTY_SPACES = " ".repeat(40);

/** Removes what wrappers add around a log line: ANSI colours, container and viewer prefixes. */
export function normalizeLine(raw: string): NormalizedLine {
  let text = stripAnsi(raw);
  if (text.includes("ESC[")) text = text.replace(LITERAL_ESCAPE, "");
  let prefixed = false;
  const compose = COMPOSE_PREFIX.exec(text);
  if (compose && !text.startsWith("|")) {
    text = text.slice(compose[0].length);
    prefixed = true;
  }
  if (text.startsWith("[")) text = text.replace(LINE_NUMBER_PREFIX, "").replace(RANK_PREFIX, "");
  if (text.includes(FORTY_SPACES)) text = text.replace(WRAP_PADDING, "");
  return { text: text.trimEnd(), prefixed };
}

/** How events show a line: trimmed and bounded, so one huge line cannot flood a chat. */
export function displayLine(text: string): string {
  const trimmed = text.trim();
  return trimmed.length > 500 ? `${trimmed.slice(0, 500)}…` : trimmed;
}

/**
 * Classifies one kernel log line (dmesg): OOM-killer, Xid, GPU fallen off the bus. Returns
 * null for other kernel chatter, including the oom_reaper follow-up of a kill.
 */
export function classifyKernelLine(line: string): ClassifiedEvent | null {
  const { text } = normalizeLine(line);
  const found = classifyText(text);
  if (!found || (found.kind !== "host_oom_kill" && found.kind !== "gpu_fault")) return null;
  return {
    kind: found.kind,
    line: displayLine(text),
    lineNumber: null,
    source: "kernel",
    detail: found.detail,
  };
}
