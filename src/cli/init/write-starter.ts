import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { InitOptions } from "./init-options.ts";
import { renderStarterConfig, STARTER_PLAN_PATH } from "./starter-config.ts";

/** The plan shipped with trainops, copied next to a new config. */
export const BUNDLED_PLAN = fileURLToPath(
  new URL("../../../configs/plans/safe-optimization.yaml", import.meta.url),
);

/** The JSON Schemas shipped with trainops, named in the files `init` writes for editors. */
export const BUNDLED_CONFIG_SCHEMA = fileURLToPath(
  new URL("../../../configs/trainops.schema.json", import.meta.url),
);
export const BUNDLED_PLAN_SCHEMA = fileURLToPath(
  new URL("../../../configs/plan.schema.json", import.meta.url),
);

/** The `# yaml-language-server` modeline that points an editor at a JSON Schema. */
export function schemaModeline(schemaPath: string): string {
  return `# yaml-language-server: $schema=${schemaPath}`;
}

/**
 * The bundled plan as `init` writes it: its modeline (relative inside the repository) points
 * at the installed plan schema instead, so completion works wherever the copy lands.
 */
export function starterPlanText(bundledPlan: string = BUNDLED_PLAN): string {
  const text = readFileSync(bundledPlan, "utf8");
  const modeline = schemaModeline(BUNDLED_PLAN_SCHEMA);
  return /^# yaml-language-server: .*$/m.test(text)
    ? text.replace(/^# yaml-language-server: .*$/m, modeline)
    : `${modeline}\n${text}`;
}

/** The config file exists and --force was not given; `trainops init` exits 1. */
export class StarterExistsError extends Error {
  constructor(readonly path: string) {
    super(
      `${path} already exists; nothing was written — fix: pass --force to replace it, or --out OTHER.yaml`,
    );
    this.name = "StarterExistsError";
  }
}

/** What {@link writeStarterFiles} wrote. */
export interface WrittenStarter {
  configPath: string;
  planPath: string;
  /** False when a plan was already there (it is never replaced: it may hold the user's edits). */
  planCopied: boolean;
}

/**
 * Writes the starter config and, if absent, the plan next to it. Refuses to replace an existing
 * config unless `force`; the write is exclusive so two concurrent inits cannot both win.
 */
export function writeStarterFiles(
  options: InitOptions,
  bundledPlan: string = BUNDLED_PLAN,
): WrittenStarter {
  const configPath = options.out;
  mkdirSync(dirname(configPath), { recursive: true });
  try {
    const text = `${schemaModeline(BUNDLED_CONFIG_SCHEMA)}\n${renderStarterConfig(options)}`;
    writeFileSync(configPath, text, {
      flag: options.force ? "w" : "wx",
      mode: 0o640,
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST")
      throw new StarterExistsError(configPath);
    throw error;
  }
  const planPath = join(dirname(configPath), STARTER_PLAN_PATH);
  let planCopied = false;
  if (!existsSync(planPath)) {
    mkdirSync(dirname(planPath), { recursive: true });
    try {
      writeFileSync(planPath, starterPlanText(bundledPlan), { flag: "wx" });
      planCopied = true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
  }
  return { configPath, planPath, planCopied };
}
