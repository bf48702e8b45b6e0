// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are YAML holding ${VAR} references.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigError } from "../../src/config/config-error.ts";
import { loadConfig, parseConfig } from "../../src/config/load-config.ts";
import { runTrainops } from "../harness/cli.ts";

const dir = mkdtempSync(join(tmpdir(), "trainops-config-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ISSUE_EXAMPLE = `
store: ./data/trainops.db
poll: "*/30 * * * * *"
runs:
  - name: exp001
    ssh: { host: 10.0.0.5, port: 22, user: dylant, privateKey: ~/.ssh/id_ed25519, knownHosts: ~/.ssh/known_hosts }
    workdir: /mnt/disks/data/repos/vesuvius_challenge
    log: runs/exp001_full/logs/train_full.log
    trainConfig: configs/experiments/exp001_full.yaml
    process: train.py
    workerProcess: pt_data_worker
    steps: { format: auto, perEpoch: 4000, epochs: 32 }
    limits: { gpuMemoryGiB: 80, hostMemoryGiB: 100 }
  - name: demo
    ssh: local
    workdir: /tmp/demo
    log: train.log
`;

function problemsOf(text: string, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    parseConfig(text, { source: "t.yaml", env, baseDir: "/etc/trainops", home: "/home/u" });
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect((error as ConfigError).message).toBe(problems.join("\n"));
    return [...problems];
  }
  throw new Error("expected a ConfigError");
}

const minimalRun = (extra = "") =>
  `runs:\n  - name: a\n    ssh: { host: h${extra} }\n    workdir: /w\n    log: l.log\n`;

describe("parseConfig", () => {
  it("accepts the documented shape and fills defaults, expanding local paths", () => {
    const config = parseConfig(ISSUE_EXAMPLE, {
      env: {},
      baseDir: "/etc/trainops",
      home: "/home/u",
    });
    expect(config.store).toBe("/etc/trainops/data/trainops.db");
    const run = config.runs[0]!;
    expect(run.ssh).toMatchObject({
      host: "10.0.0.5",
      port: 22,
      privateKey: "/home/u/.ssh/id_ed25519",
      knownHosts: "/home/u/.ssh/known_hosts",
      connectTimeout: "10s",
    });
    expect(run.steps).toEqual({ format: "auto", perEpoch: 4000, epochs: 32 });
    expect(config.runs[1]!.ssh).toBe("local");
    expect(config.runs[1]!.backfillBytes).toBe(256 * 1024);
  });

  it("substitutes ${VAR} and ${VAR:-default}, typing numbers where the schema wants them", () => {
    const text = `${minimalRun(', port: "${SSH_PORT}", user: "${SSH_USER:-root}"')}discord:\n  token: \${DISCORD_TOKEN}\n`;
    const config = parseConfig(text, { env: { SSH_PORT: "2222", DISCORD_TOKEN: "s3cret" } });
    expect(config.runs[0]!.ssh).toMatchObject({ port: 2222, user: "root" });
    expect(config.discord?.token).toBe("s3cret");
  });

  it("leaves out an optional key whose variable is unset, but names the variable on a required one", () => {
    const ok = parseConfig(`${minimalRun(', user: "${SSH_USER}"')}`, { env: {} });
    expect((ok.runs[0]!.ssh as { user?: string }).user).toBeUndefined();
    const problems = problemsOf(
      "runs:\n  - name: a\n    ssh:\n      host: ${VM_HOST}\n    workdir: /w\n    log: l\n",
    );
    expect(problems).toEqual([
      expect.stringMatching(
        /^t\.yaml: runs\[0\]\.ssh\.host: environment variable VM_HOST is not set — fix: export VM_HOST=/,
      ),
    ]);
  });

  it("lists every problem with key path, what was wrong and the fix", () => {
    const problems = problemsOf(
      `runs:\n  - name: a\n    ssh: { host: h, port: "22a", prot: 1 }\n    workdir: /w\n    stpes: {}\n    backfillBytes: -1\n`,
    );
    expect(problems).toContain(
      't.yaml: runs[0].ssh.port: expected an integer from 1 to 65535, got "22a" — fix: set runs[0].ssh.port to an integer from 1 to 65535',
    );
    expect(problems).toContain(
      't.yaml: runs[0].ssh.prot: unknown key — fix: did you mean "port"? Rename it',
    );
    expect(problems).toContain(
      't.yaml: runs[0].stpes: unknown key — fix: did you mean "steps"? Rename it',
    );
    expect(problems).toContain(
      "t.yaml: runs[0].log: missing — fix: add runs[0].log (a text value)",
    );
    expect(
      problems.some((p) =>
        p.startsWith("t.yaml: runs[0].backfillBytes: expected an integer of 0 or more, got -1"),
      ),
    ).toBe(true);
    expect(problems).toHaveLength(5);
  });

  it("states exclusive bounds the way people read them", () => {
    const problems = problemsOf(
      `${minimalRun()}    steps: { perEpoch: 0 }\n    limits: { gpuMemoryGiB: -1 }\n`,
    );
    expect(problems).toContain(
      "t.yaml: runs[0].steps.perEpoch: expected an integer of 1 or more, got 0 — fix: set runs[0].steps.perEpoch to an integer of 1 or more",
    );
    expect(problems).toContain(
      "t.yaml: runs[0].limits.gpuMemoryGiB: expected a number above 0, got -1 — fix: set runs[0].limits.gpuMemoryGiB to a number above 0",
    );
  });

  it("names an unknown key without a close match and lists what the level takes", () => {
    const [problem] = problemsOf(`${minimalRun()}zebra: 1\n`);
    expect(problem).toMatch(
      /^t\.yaml: zebra: unknown key — fix: remove it; the top level takes store, poll,/,
    );
  });

  it("explains a regex-checked value, an enum, and a wrong ssh shape", () => {
    const problems = problemsOf(
      `${minimalRun(", connectTimeout: 10 seconds")}logLevel: loud\nruns2: 1\n`.replace(
        "runs2: 1\n",
        "",
      ),
    );
    expect(problems).toContain(
      't.yaml: runs[0].ssh.connectTimeout: expected a duration like 30s, 10m, 2h or 1d, got "10 seconds" — fix: set runs[0].ssh.connectTimeout to a duration like 30s, 10m, 2h or 1d',
    );
    expect(problems).toContain(
      't.yaml: logLevel: expected one of trace, debug, info, warn, error, fatal, got "loud" — fix: set logLevel to one of trace, debug, info, warn, error, fatal',
    );
    const [shape] = problemsOf(
      "runs:\n  - name: a\n    ssh: remote\n    workdir: /w\n    log: l\n",
    );
    expect(shape).toMatch(
      /^t\.yaml: runs\[0\]\.ssh: expected "local", or a mapping with keys host, port/,
    );
  });

  it("requires unique run names", () => {
    const text = `runs:\n  - { name: a, ssh: local, workdir: /w, log: l }\n  - { name: b, ssh: local, workdir: /w, log: l }\n  - { name: a, ssh: local, workdir: /w, log: l }\n`;
    expect(problemsOf(text)).toEqual([
      't.yaml: runs[2].name: "a" is already the name of runs[0] — fix: give each run a different name',
    ]);
  });

  it("reports YAML syntax errors with line and column", () => {
    const problems = problemsOf("runs:\n  - name: a\n    ssh: { host: h\n    workdir: /w\n");
    expect(problems.length).toBeGreaterThan(0);
    expect(problems[0]).toMatch(/^t\.yaml: line \d+, column \d+: YAML syntax error: .+ — fix: /);
    expect(problemsOf("runs:\n  - name: a\n    ssh: { port: ${P} }\n")[0]).toMatch(
      /fix: put quotes around values that use \$\{VAR\}/,
    );
    expect(problemsOf("runs: []\nruns: []\n")[0]).toMatch(
      /line 2, column 1: YAML syntax error: Map keys must be unique/,
    );
  });

  it("rejects an empty file, a non-mapping top level and an empty runs list", () => {
    expect(problemsOf("")[0]).toMatch(/^t\.yaml: the file is empty — fix: add a runs: list/);
    expect(problemsOf("- a\n")[0]).toMatch(/top level must be a mapping/);
    expect(problemsOf("runs: []\n")).toEqual([
      "t.yaml: runs: empty list — fix: add at least one run under runs:",
    ]);
  });

  it("never echoes a secret in a message", () => {
    const problems = problemsOf(`${minimalRun(", passphrase: 12345")}`);
    expect(problems.join("\n")).not.toContain("12345");
    expect(problems[0]).toMatch(
      /runs\[0\]\.ssh\.passphrase: expected a text value, got a value \(hidden: secret\)/,
    );
  });
});

describe("loadConfig", () => {
  it("resolves relative local paths against the config file's directory", () => {
    const path = join(dir, "trainops.yaml");
    writeFileSync(path, `store: db/t.db\n${minimalRun(", knownHosts: keys/known_hosts")}`);
    const config = loadConfig(path, { env: {} });
    expect(config.store).toBe(join(dir, "db/t.db"));
    expect((config.runs[0]!.ssh as { knownHosts: string }).knownHosts).toBe(
      join(dir, "keys/known_hosts"),
    );
  });

  it("names a missing file", () => {
    expect(() => loadConfig(join(dir, "nope.yaml"))).toThrow(
      /nope\.yaml: file not found — fix: create it or pass --config FILE/,
    );
  });
});

describe("trainops exit code", () => {
  // Needs a subcommand that loads the config; `check` is the first one planned.
  it.runIf(existsSync("src/cli/commands/check.ts"))(
    "exits 2 with the problems on stderr when the config is bad",
    async () => {
      const path = join(dir, "bad.yaml");
      writeFileSync(
        path,
        "runs:\n  - name: a\n    ssh: { host: h, port: 0 }\n    workdir: /w\n    log: l\n",
      );
      const { code, stderr } = await runTrainops(["check", "--config", path]);
      expect(stderr, "check must exist and load the config").toContain(
        "runs[0].ssh.port: expected an integer from 1 to 65535, got 0",
      );
      expect(code).toBe(2);
    },
  );
});
