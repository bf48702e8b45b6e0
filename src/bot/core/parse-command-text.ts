import type { OptionSpec, SubcommandSpec } from "./command-request.ts";
import { isRuleName } from "./rule-names.ts";
import { findSpec } from "./subcommand-specs.ts";

/** A `/train …` line split into a subcommand and raw named arguments. */
export interface ParsedCommandText {
  subcommand: string;
  args: Record<string, string | undefined>;
}

const DURATION = /^\d+(\.\d+)?(ms|s|m|h|d)$/;
/** What a run name can be (the config's rule for `runs[].name`). */
const RUN_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

/**
 * Splits the text of a `/train` command as typed in the console or a Slack slash command:
 * `status exp001`, `set exp001 workers=4 batch=2`, `set workers:4`, `mute gpu_idle 2h waiting`.
 * Named arguments use `key=value` or `key:value`; bare words fill the subcommand's options in
 * order (a first word that names a configured run is the run). Quotes group words. Values stay
 * strings: validation happens in the command layer, so every front end gives the same message.
 */
export function parseCommandText(text: string, runNames: readonly string[]): ParsedCommandText {
  const words = splitWords(text.trim().replace(/^\/?train\b\s*/, ""));
  const subcommand = (words.shift() ?? "help").toLowerCase();
  const spec = findSpec(subcommand);
  const args: Record<string, string | undefined> = {};
  const positional: string[] = [];
  for (const word of words) {
    const named = /^([A-Za-z][\w-]*)[=:](.*)$/s.exec(word);
    // `key:value` only counts for the subcommand's own options, so a reason like "note: x" stays.
    if (named && (spec === undefined || hasOption(spec, named[1] as string))) {
      args[(named[1] as string).toLowerCase()] = named[2];
    } else {
      positional.push(word);
    }
  }
  if (spec) assignPositional(spec, positional, args, runNames);
  else if (positional.length) args._ = positional.join(" ");
  return { subcommand, args };
}

function hasOption(spec: SubcommandSpec, name: string): boolean {
  return spec.options.some((option) => option.name === name.toLowerCase());
}

/** Whether `word` could be a value of `option` (integers, choices, durations). */
function fits(option: OptionSpec, word: string): boolean {
  if (option.type === "integer") return /^-?\d+$/.test(word);
  if (option.choices) return option.choices.includes(word);
  if (option.name === "window" || option.name === "duration") return isDuration(word);
  return true;
}

function isDuration(word: string): boolean {
  return DURATION.test(word);
}

function assignPositional(
  spec: SubcommandSpec,
  words: string[],
  args: Record<string, string | undefined>,
  runNames: readonly string[],
): void {
  const rest = [...words];
  if (rest.length && args.run === undefined && hasOption(spec, "run")) {
    // A first word names the run when it is one, when the command takes nothing else, or when
    // it fits none of the other options (so `/train set exp009 4` says "No run named").
    const others = spec.options.filter((o) => o.name !== "run" && args[o.name] === undefined);
    const word = rest[0] as string;
    // A word no run could be named (`/)`, `-rf`) is left over for a usage error instead.
    const isRun =
      runNames.includes(word) ||
      (RUN_NAME.test(word) &&
        (others.length === 0 || (spec.name !== "mute" && !others.some((o) => fits(o, word)))));
    if (isRun) args.run = rest.shift();
  }
  if (spec.name === "mute") {
    // mute [rule] <duration> <reason…>: the rule is whatever precedes the first duration.
    if (rest.length && args.rule === undefined && args.duration === undefined) {
      // A known alert name (`oom`) is the rule even when the duration is misplaced, so the
      // validator blames the duration's place rather than the alert's name.
      const first = rest[0] as string;
      if (
        !isDuration(first) &&
        rest.length > 1 &&
        (isDuration(rest[1] as string) || isRuleName(first))
      ) {
        args.rule = rest.shift();
      }
    }
    if (rest.length && args.duration === undefined) args.duration = rest.shift();
    if (rest.length && args.reason === undefined) args.reason = rest.join(" ");
    return;
  }
  const leftover: string[] = [];
  for (const word of rest) {
    const option = spec.options.find(
      (o) => o.name !== "run" && args[o.name] === undefined && fits(o, word),
    );
    if (option) args[option.name] = word;
    else leftover.push(word);
  }
  // Words left over are kept so the validator can say what was not understood.
  if (leftover.length) args._ = leftover.join(" ");
}

/** Splits on whitespace; double or single quotes group words, also inside `key="a b"`. */
function splitWords(text: string): string[] {
  const words: string[] = [];
  let current = "";
  let quote: string | null = null;
  let started = false;
  for (const ch of text) {
    if (quote) {
      if (ch === quote) quote = null;
      else current += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      started = true;
    } else if (/\s/.test(ch)) {
      if (started) words.push(current);
      current = "";
      started = false;
    } else {
      current += ch;
      started = true;
    }
  }
  if (started) words.push(current);
  return words;
}
