import { describe, expect, it } from "vitest";
import { bindRules } from "../../src/alerts/rule-settings.ts";
import { ConfigError } from "../../src/config/config-error.ts";
import { parseConfig } from "../../src/config/load-config.ts";
import { planSchema } from "../../src/ops/plan-schema.ts";

const SLURM_RUN = `
runs:
  - name: exp001
    ssh: { host: login.cluster, user: dylant }
    workdir: /shared/vesuvius
    trainConfig: configs/exp001.yaml
    slurm: { job: exp001, submit: scripts/train.sbatch, partition: gpu, user: dylant }
`;

function parse(text: string) {
  const notices: string[] = [];
  const config = parseConfig(text, {
    source: "t.yaml",
    env: {},
    baseDir: "/etc/trainops",
    home: "/home/u",
    onNotice: (n) => notices.push(n),
  });
  return { config, notices };
}

function problemsOf(text: string): string[] {
  try {
    parse(text);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return [...(error as ConfigError).problems];
  }
  throw new Error("expected a ConfigError");
}

describe("slurm: in a run", () => {
  it("loads a job by name without a log (the job's StdOut is the log)", () => {
    const { config, notices } = parse(SLURM_RUN);
    const run = config.runs[0];
    expect(run?.log).toBeUndefined();
    expect(run?.slurm).toMatchObject({
      job: "exp001",
      submit: "scripts/train.sbatch",
      partition: "gpu",
      user: "dylant",
      requeue: false,
      srunTimeout: "20s",
    });
    expect(notices).toEqual([]);
  });

  it("loads a job by id", () => {
    const { config } = parse(SLURM_RUN.replace("job: exp001,", "jobId: 4242,"));
    expect(config.runs[0]?.slurm?.jobId).toBe(4242);
  });

  it("refuses a slurm block that names no job, and a plain run without a log", () => {
    expect(problemsOf(SLURM_RUN.replace("job: exp001, ", ""))).toEqual([
      expect.stringContaining("t.yaml: runs[0].slurm: name the job: slurm: { job: NAME }"),
    ]);
    expect(problemsOf(SLURM_RUN.replace(/ {4}slurm:.*\n/, ""))).toEqual([
      "t.yaml: runs[0].log: missing — fix: add runs[0].log (a text value)",
    ]);
  });

  it("tells which wins when a run names both a process match and a Slurm job", () => {
    const { config, notices } = parse(
      SLURM_RUN.replace("    slurm:", "    process: train.py\n    start: ./start.sh\n    slurm:"),
    );
    expect(config.runs[0]?.slurm?.job).toBe("exp001");
    expect(notices).toEqual([
      expect.stringMatching(
        /^t\.yaml: note: runs\[0\] \(exp001\): both process and slurm are set — slurm wins: .*process is ignored/,
      ),
      expect.stringMatching(
        /^t\.yaml: note: runs\[0\] \(exp001\): both start and slurm are set — slurm wins/,
      ),
    ]);
  });

  it("takes the scheduler rules' settings under alerts.rules and names a bad one", () => {
    const { config } = parse(
      `${SLURM_RUN}alerts:\n  rules:\n    time_limit: { margin: 45m }\n    pending_long: { after: 2h }\n    requeued: { window: 5m }\n    job_ended: { severity: warning }\n`,
    );
    const rules = bindRules(config);
    expect(rules.find((r) => r.name === "time_limit")?.settings).toMatchObject({
      margin: 45 * 60_000,
    });
    expect(rules.find((r) => r.name === "pending_long")?.settings).toMatchObject({
      after: 2 * 3_600_000,
    });
    const bad = parse(`${SLURM_RUN}alerts:\n  rules:\n    time_limit: { margin: soon }\n`).config;
    expect(() => bindRules(bad)).toThrow(/alerts\.rules\.time_limit\.margin: expected a duration/);
  });

  it("lets a phase ask Slurm for nodes, GPUs per node and a time limit", () => {
    const plan = planSchema.parse({
      name: "p",
      phases: [
        {
          name: "Two nodes",
          risk: "medium",
          set: { "training.workers": 2 },
          slurm: { nodes: 2, gpusPerNode: 4, time: "1-00:00:00" },
          hold: { minSteps: 10, maxSteps: 20 },
        },
      ],
    });
    expect(plan.phases[0]?.slurm).toEqual({ nodes: 2, gpusPerNode: 4, time: "1-00:00:00" });
    expect(() =>
      planSchema.parse({
        name: "p",
        phases: [
          {
            name: "x",
            risk: "low",
            set: { a: 1 },
            slurm: { time: "soon" },
            hold: { minSteps: 1, maxSteps: 1 },
          },
        ],
      }),
    ).toThrow(/Slurm's time format/);
  });
});
