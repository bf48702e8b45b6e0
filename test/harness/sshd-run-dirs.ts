import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll } from "vitest";
import { type RunConfig, runSchema } from "../../src/config/schema.ts";
import { createFakeRunDir, type FakeRunDir } from "./fake-run-dir.ts";
import { type SshdHarness, startSshd } from "./sshd.ts";

/** A run reached over SSH (never `ssh: local`), so its `ssh` settings open an SshTransport. */
export type SshRunConfig = RunConfig & { ssh: Exclude<RunConfig["ssh"], "local"> };

/** What {@link SshdRunDirs.runDir} asks for: the run's config fields, and the log's first bytes. */
export interface RunDirRequest extends Record<string, unknown> {
  name: string;
  /** The log, relative to the workdir (parent folders are made). */
  log: string;
  /** What the log holds at the start (default: nothing). */
  content?: string;
}

/** A fake run folder (see createFakeRunDir) and the config of its run over the file's sshd. */
export interface SshRunDir extends FakeRunDir {
  run: SshRunConfig;
}

/** One real sshd and one temp folder for a whole test file's fake runs. */
export interface SshdRunDirs {
  /** The file's sshd (started before its first test). */
  readonly sshd: SshdHarness;
  /** The file's temp folder, removed after its last test. */
  readonly root: string;
  /**
   * Creates a fake run folder at `dir` (relative to the root) and parses its run config over the
   * sshd; fields other than `content` go to the config, and override the defaults (the fake
   * nvidia-smi beside the run, among them).
   */
  runDir(dir: string, request: RunDirRequest): SshRunDir;
}

/**
 * Starts one sshd and makes one temp folder in `beforeAll`, and stops and removes them in
 * `afterAll`: the set-up of the test files that drive a monitor over real SSH against log files
 * they write themselves. Call it at a test file's top level.
 */
export function useSshdRunDirs(prefix: string): SshdRunDirs {
  let sshd: SshdHarness | undefined;
  let root: string | undefined;
  beforeAll(async () => {
    sshd = await startSshd();
    root = mkdtempSync(join(tmpdir(), prefix));
  });
  afterAll(async () => {
    await sshd?.stop();
    if (root !== undefined) rmSync(root, { recursive: true, force: true });
  });
  const started = () => {
    if (sshd === undefined || root === undefined) throw new Error("the sshd starts in beforeAll");
    return { sshd, root };
  };
  return {
    get sshd() {
      return started().sshd;
    },
    get root() {
      return started().root;
    },
    runDir(dir, { content, ...fields }) {
      const { sshd, root } = started();
      const fake = createFakeRunDir(join(root, dir), fields.log, content);
      const run = runSchema.parse({
        ssh: sshd.runConfigSsh(),
        workdir: fake.workdir,
        nvidiaSmi: fake.nvidiaSmi,
        ...fields,
      });
      if (run.ssh === "local") throw new Error(`run ${run.name} is not reached over SSH`);
      return { ...fake, run: run as SshRunConfig };
    },
  };
}
