import type { SubcommandSpec } from "./command-request.ts";
import { findSpec } from "./subcommand-specs.ts";

/** A `/train …` line split into a subcommand and raw named arguments. */
export interface ParsedCommandText {
  subcommand: string;
  args: Record<string, string | undefined>;
}

const DURATION = /^\d+(\.\d+)?(ms|s|m|h|d)$/;

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
    // A first word names the run when it is one, or when the command takes nothing else.
    const others = spec.options.filter((o) => o.name !== "run" && args[o.name] === undefined);
    if (runNames.includes(rest[0] as string) || others.length === 0) args.run = rest.shift();
  }
  if (spec.name === "mute") {
    // mute [rule] <duration> <reason…>: the rule is whatever precedes the first duration.
    if (rest.length && args.rule === undefined && args.duration === undefined) {
      if (!isDuration(rest[0] as string) && rest.length > 1 && isDuration(rest[1] as string)) {
        args.rule = rest.shift();
      }
    }
    if (rest.length && args.duration === undefined) args.duration = rest.shift();
    if (rest.length && args.reason === undefined) args.reason = rest.join(" ");
    return;
  }
  for (const option of spec.options) {
    if (!rest.length) break;
    if (args[option.name] !== undefined) continue;
    args[option.name] = rest.shift();
  }
  // Words left over are kept so the validator can say what was not understood.
  if (rest.length) args._ = rest.join(" ");
}

function splitWords(text: string): string[] {
  const words: string[] = [];
  const pattern = /"([^"]*)"|'([^']*)'|(\S+)/g;
  for (const match of text.matchAll(pattern)) {
    words.push(match[1] ?? match[2] ?? (match[3] as string));
  }
  return words;
}
