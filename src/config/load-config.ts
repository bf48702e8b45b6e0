import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { parseDocument } from "yaml";
import { ConfigError } from "./config-error.ts";
import { formatIssues, formatPath } from "./config-issues.ts";
import { configNotices } from "./config-notices.ts";
import { unknownDigestRuns } from "./digest-run-names.ts";
import { hasEnvReference, substituteEnv } from "./env-substitution.ts";
import { type Config, configSchema } from "./schema.ts";
import { presence, schemaAt, unwrap } from "./schema-introspection.ts";

/** Where values come from besides the file itself. */
export interface LoadConfigOptions {
  /** Variables for `${VAR}` substitution; process.env by default. */
  env?: NodeJS.ProcessEnv;
  /** Directory that relative local paths (store, keys) are resolved against. */
  baseDir?: string;
  /** Home directory for `~`; $HOME of `env`, then the OS's. */
  home?: string;
  /** Receives notes on a valid config (keys that another key overrides); default: stderr. */
  onNotice?: (notice: string) => void;
}

/** Options of {@link parseConfig}: also the name errors are reported under. */
export interface ParseConfigOptions extends LoadConfigOptions {
  source?: string;
}

/**
 * Reads, substitutes, validates and resolves `trainops.yaml`. Throws a ConfigError that
 * lists every problem found (not just the first), each with its key path and fix.
 */
export function loadConfig(path: string, options: LoadConfigOptions = {}): Config {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const problem =
      code === "ENOENT"
        ? `${path}: file not found — fix: create it or pass --config FILE`
        : `${path}: cannot read (${code ?? (error as Error).message}) — fix: check its permissions`;
    throw new ConfigError(problem, [problem]);
  }
  return parseConfig(text, {
    ...options,
    source: path,
    baseDir: options.baseDir ?? dirname(resolve(path)),
  });
}

/** Parses configuration text; see {@link loadConfig}. */
export function parseConfig(text: string, options: ParseConfigOptions = {}): Config {
  const source = options.source ?? "trainops.yaml";
  const env = options.env ?? process.env;
  const baseDir = options.baseDir ?? process.cwd();
  const home = options.home ?? env.HOME ?? homedir();
  const fail = (problems: string[]): never => {
    const lines = problems.map((problem) => `${source}: ${problem}`);
    throw new ConfigError(lines.join("\n"), lines);
  };

  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  const syntax = doc.errors[0];
  if (syntax) {
    // Later syntax errors are nearly always knock-on effects of the first; show that one.
    const at = syntax.linePos?.[0];
    const where = at ? `line ${at.line}, column ${at.col}` : "somewhere";
    const what = syntax.message.split("\n")[0]?.replace(/ at line \d+, column \d+:?$/, "");
    const line = at ? (text.split("\n")[at.line - 1] ?? "") : "";
    const fix = /\$\{/.test(line)
      ? `put quotes around values that use $\{VAR}, e.g. port: "$\{SSH_PORT}"`
      : "correct the YAML there (indentation, quotes, a missing ':')";
    fail([`${where}: YAML syntax error: ${what} — fix: ${fix}`]);
  }
  const raw: unknown = doc.toJS();
  if (raw === null || raw === undefined) {
    fail(["the file is empty — fix: add a runs: list (see configs/trainops.schema.json)"]);
  }
  if (typeof raw !== "object" || Array.isArray(raw)) {
    fail(["the top level must be a mapping of keys (store:, runs:, …) — fix: start with runs:"]);
  }

  const problems: string[] = [];
  const substituted = substituteTree(raw, [], env, problems);
  problems.push(...duplicateRunNames(substituted));
  problems.push(...unknownDigestRuns(substituted));
  // A config is validated once per load: zod's compiled fast path (generated and compiled for
  // each object shape at its first parse) would cost more than the one parse it speeds up.
  const parsed = configSchema.safeParse(substituted, { jitless: true });
  if (!parsed.success) {
    // A key whose variable is unset already has its problem; "must not be empty" adds nothing.
    const reported = problems.map((problem) => problem.slice(0, problem.indexOf(": ") + 2));
    const schemaProblems = formatIssues(parsed.error.issues, substituted, configSchema);
    problems.push(...schemaProblems.filter((p) => !reported.some((r) => p.startsWith(r))));
  }
  if (problems.length > 0 || !parsed.success) fail(problems);
  const notify = options.onNotice ?? ((notice) => process.stderr.write(`${notice}\n`));
  for (const notice of configNotices(substituted)) notify(`${source}: note: ${notice}`);
  return resolveLocalPaths(parsed.data as Config, baseDir, home);
}

/**
 * Substitutes `${VAR}` in every string, coercing to a number or boolean where the schema
 * wants one (YAML types `${PORT}` as text). An unset variable is an error on a required key;
 * on an optional key a whole-value reference leaves the key out (its default applies).
 */
function substituteTree(
  value: unknown,
  path: PropertyKey[],
  env: NodeJS.ProcessEnv,
  problems: string[],
): unknown {
  if (Array.isArray(value))
    return value.map((item, i) => substituteTree(item, [...path, i], env, problems));
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      const next = substituteTree(item, [...path, key], env, problems);
      if (next !== OMIT) out[key] = next;
    }
    return out;
  }
  if (typeof value !== "string" || !hasEnvReference(value)) return value;
  const result = substituteEnv(value, env);
  const schema = schemaAt(configSchema, path);
  if (result.unset.length > 0) {
    const optional = schema !== undefined && presence(schema) !== "required";
    if (!optional) {
      for (const variable of result.unset) {
        problems.push(
          `${formatPath(path)}: environment variable ${variable} is not set — fix: export ${variable}=… before starting trainops, or write \${${variable}:-default}`,
        );
      }
      return result.value;
    }
    if (result.whole) return OMIT;
  }
  return coerce(result.value, schema);
}

const OMIT = Symbol("omit");

function coerce(text: string, schema: ReturnType<typeof schemaAt>): unknown {
  if (!schema) return text;
  const type = (unwrap(schema) as unknown as { def: { type: string } }).def.type;
  if (type === "number" && /^-?\d+(\.\d+)?$/.test(text.trim())) return Number(text);
  if (type === "boolean" && /^(true|false)$/i.test(text.trim()))
    return text.trim().toLowerCase() === "true";
  return text;
}

function duplicateRunNames(value: unknown): string[] {
  const runs = (value as { runs?: unknown }).runs;
  if (!Array.isArray(runs)) return [];
  const seen = new Map<string, number>();
  const problems: string[] = [];
  runs.forEach((run, i) => {
    const name = (run as { name?: unknown } | null)?.name;
    if (typeof name !== "string") return;
    const first = seen.get(name);
    if (first === undefined) {
      seen.set(name, i);
    } else {
      problems.push(
        `runs[${i}].name: "${name}" is already the name of runs[${first}] — fix: give each run a different name`,
      );
    }
  });
  return problems;
}

/** Expands `~` and makes local paths absolute against the config file's directory. */
function resolveLocalPaths(config: Config, baseDir: string, home: string): Config {
  const local = (path: string): string => {
    if (path === "~") return home;
    if (path.startsWith("~/")) return join(home, path.slice(2));
    return isAbsolute(path) ? path : resolve(baseDir, path);
  };
  return {
    ...config,
    store: config.store === ":memory:" ? config.store : local(config.store),
    runs: config.runs.map((run) => {
      if (run.ssh === "local") return run;
      const ssh = { ...run.ssh };
      if (ssh.privateKey) ssh.privateKey = local(ssh.privateKey);
      if (ssh.knownHosts) ssh.knownHosts = local(ssh.knownHosts);
      if (ssh.sshConfig) ssh.sshConfig = local(ssh.sshConfig);
      return { ...run, ssh };
    }),
  };
}
