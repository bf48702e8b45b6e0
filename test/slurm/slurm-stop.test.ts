import { chmodSync, readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/load-config.ts";
import type { Config, RunConfig } from "../../src/config/schema.ts";
import type { Message } from "../../src/message/message.ts";
import { isSlurmEnded } from "../../src/model/slurm-job.ts";
import { readRunStatus } from "../../src/monitors/run-status.ts";
import { openProduct } from "../../src/runtime/product.ts";
import { AuditRepo } from "../../src/store/audit-repo.ts";
import { ChangeLocksRepo } from "../../src/store/change-locks-repo.ts";
import type { Db } from "../../src/store/database.ts";
import { createMonitorStore } from "../../src/store/monitor-store.ts";
import { NoticesRepo } from "../../src/store/notices-repo.ts";
import { OperationJournalRepo } from "../../src/store/operation-journal-repo.ts";
import { SlurmJobsRepo } from "../../src/store/slurm-jobs-repo.ts";
import { createTransport } from "../../src/transport/create-transport.ts";
import type { Transport } from "../../src/transport/transport.ts";
import { CONSOLE, RecordingResponder, req, textOf } from "../bot/bot-fixture.ts";
import { runTrainops, spawnTrainops } from "../harness/cli.ts";
import { type DaemonPieces, daemonPiecesOver } from "../harness/command-layer.ts";
import { type SshdHarness, startSshd } from "../harness/sshd.ts";
import { waitUntil } from "../harness/wait.ts";
import { text } from "./slurm-alert-run.ts";
import { type SlurmFixture, startSlurmFixture } from "./slurm-fixture.ts";

// `/train stop` of a run that is a Slurm job, on a real cluster (slurmctld, two slurmd): the
// daemon's pieces (monitor, alerting, operations, the chat command layer) over one store.

const RUN = "exp001";

let fx: SlurmFixture;

beforeAll(async () => {
  fx = await startSlurmFixture({ prefix: "trainops-slurm-stop-" });
}, 60_000);

afterAll(async () => {
  await fx?.stop();
});

interface Daemon extends DaemonPieces {
  configPath: string;
  config: Config;
  db: Db;
  slurmState(): string | undefined;
}

/** The daemon's pieces for exp001; operations go through `opsTransport` when given. */
function daemon(opsTransport?: Transport): Daemon {
  const path = fx.sim.writeConfig({
    store: `${fx.sim.root}/store-${Math.random().toString(36).slice(2)}.db`,
    runs: [
      fx.runEntry({
        restart: { interruptTimeout: "8s", terminateTimeout: "4s", confirmTimeout: "60s" },
      }),
    ],
    // The kernel log is this shared machine's: OOM kills of other tests' processes are not ours.
    alerts: { console: false, groupWindow: "0s", rules: { host_oom_kill: { enabled: false } } },
  });
  const config = parseConfig(readFileSync(path, "utf8"));
  const attached = fx.sim.attach(config);
  const { db } = attached;
  return {
    ...daemonPiecesOver(config, attached, {
      checkEveryMs: 250,
      ...(opsTransport ? { opsTransport } : {}),
    }),
    configPath: path,
    config,
    db,
    slurmState: () => readRunStatus(createMonitorStore(db), RUN).slurm?.state,
  };
}

/** Submits the training job and drives rounds until the store has its first steps. */
async function runningJob(d: Daemon): Promise<number> {
  const jobId = await fx.submit();
  await waitUntil(
    async () => {
      await d.round();
      return (
        d.slurmState() === "RUNNING" && readRunStatus(createMonitorStore(d.db), RUN).step !== null
      );
    },
    { timeoutMs: 90_000, intervalMs: 500, what: `job ${jobId} running and stepping` },
  );
  return jobId;
}

/** Rounds until the store holds the job's end (the barrier every "no alert" check ends on). */
async function untilEnded(d: Daemon, what: string): Promise<void> {
  await waitUntil(
    async () => {
      await d.round();
      const state = d.slurmState();
      return state !== undefined && isSlurmEnded(state);
    },
    { timeoutMs: 60_000, intervalMs: 500, what },
  );
  // One more round after the end was stored: rules evaluated and delivered on it.
  await d.round();
}

function button(message: Message, label: string): string {
  const found = message.buttons?.find((b) => b.label === label);
  if (!found) throw new Error(`no '${label}' button on ${message.title}`);
  return found.id;
}

const stopAudit = (db: Db) =>
  new AuditRepo(db)
    .list({ run: RUN })
    .filter((e) => e.command === "stop")
    .map((e) => e.outcome)
    .reverse();

const journal = (db: Db) =>
  db
    .prepare("SELECT step, outcome, detail FROM operation_journal WHERE kind = 'stop'")
    .all() as Array<{
    step: string;
    outcome: string | null;
    detail: string | null;
  }>;

describe("/train stop of a Slurm job", () => {
  it("cancels the running job: it ends CANCELLED, no job-end alert, one answer in chat", async () => {
    const d = daemon();
    const jobId = await runningJob(d);
    const responder = new RecordingResponder();

    const preview = await d.core.execute(req("stop"), responder);
    expect(preview.title).toBe(`Confirm: Stop training of ${RUN}`);
    expect(textOf(preview)).toContain(
      `Cancels Slurm job ${jobId} (RUNNING on n1, n2) with scancel`,
    );
    expect(await fx.cluster.jobState(jobId)).toBe("RUNNING");

    await d.core.press({ buttonId: button(preview, "Confirm"), invoker: CONSOLE }, responder);
    await d.core.idle();
    const done = responder.messages.at(-1) as Message;
    expect(done.title, textOf(done)).toBe(`Done: Stop training of ${RUN}`);
    expect(textOf(done)).toContain(
      `Training of ${RUN} stopped: Slurm job ${jobId} cancelled (CANCELLED)`,
    );
    expect(await fx.cluster.jobState(jobId)).toBe("CANCELLED");

    await untilEnded(d, "the monitor to store the cancelled job");
    expect(d.slurmState()).toBe("CANCELLED");
    expect(new SlurmJobsRepo(d.db).get(RUN, String(jobId))?.cancelledByTrainops).toBe(true);
    // Stopped by the operator: no "was cancelled" job-end alert, no crash, nothing else in chat.
    expect(d.sink.messages.map((m) => m.title)).toEqual([]);
    expect(
      responder.messages.filter((m) => m.title.startsWith("Done:") || m.severity === "critical"),
    ).toHaveLength(1);
    expect(stopAudit(d.db)).toEqual(["requested", "confirmed", "applied"]);
    expect(journal(d.db)).toEqual([
      expect.objectContaining({ step: "confirmed", outcome: "applied" }),
    ]);

    // Status says who stopped it, not that it failed.
    const status = await d.core.execute(req("status"), responder);
    expect(textOf(status)).toContain(`Slurm job ${jobId}: CANCELLED`);
    expect(textOf(status)).toMatch(
      new RegExp(
        `Stopped by ${CONSOLE.userName} at \\d\\d:\\d\\d UTC \\(\`/train stop\`\\); \`/train restart\` resumes it\\.`,
      ),
    );

    // Nothing is left to stop, and `/train stop` says so.
    const again = await d.core.execute(req("stop"), responder);
    expect(textOf(again)).toContain(
      `Slurm job ${jobId} of ${RUN} already ended (CANCELLED); nothing to stop`,
    );
  }, 240_000);

  it("from the terminal: `trainops stop --yes` cancels it and tells chat once", async () => {
    const d = daemon();
    const jobId = await runningJob(d);
    const out = await runTrainops(["stop", "--yes", "--config", d.configPath], {
      timeoutMs: 120_000,
    });
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toContain(`Cancels Slurm job ${jobId} (RUNNING on n1, n2) with scancel`);
    expect(out.stdout).toContain(
      `Training of ${RUN} stopped: Slurm job ${jobId} cancelled (CANCELLED)`,
    );
    await untilEnded(d, "the monitor to store the cancelled job");
    // The one message in chat: the outcome of a change asked where chat did not see it.
    expect(d.sink.messages.map((m) => m.title)).toEqual([`${RUN}: Stop training of ${RUN}: done`]);
  }, 240_000);

  it("refuses a job that ended since the preview: nothing recorded as done, its end still alerts", async () => {
    const d = daemon();
    const jobId = await runningJob(d);
    const responder = new RecordingResponder();
    const preview = await d.core.execute(req("stop"), responder);
    expect(preview.title).toBe(`Confirm: Stop training of ${RUN}`);

    // Someone else cancels it before the confirm.
    await fx.cluster.exec("scancel", [String(jobId)]);
    await waitUntil(async () => (await fx.cluster.jobState(jobId)) === "CANCELLED", {
      what: `job ${jobId} cancelled from outside`,
    });
    await d.core.press({ buttonId: button(preview, "Confirm"), invoker: CONSOLE }, responder);
    await d.core.idle();
    const answer = responder.messages.at(-1) as Message;
    expect(textOf(answer)).toContain(
      `Slurm job ${jobId} of ${RUN} already ended (CANCELLED); nothing to stop`,
    );
    expect(stopAudit(d.db)).toEqual(["requested", "confirmed", "refused"]);
    expect(journal(d.db)).toEqual([
      expect.objectContaining({ step: "locked", outcome: "refused" }),
    ]);
    expect(new SlurmJobsRepo(d.db).get(RUN, String(jobId))?.cancelledByTrainops).toBe(false);

    // Not trainops' cancel: the job-end alert tells it.
    await untilEnded(d, "the monitor to store the job's end");
    const alert = d.sink.messages.find((m) => /was cancelled/.test(m.title));
    expect(alert?.title).toContain(`Slurm job ${jobId} was cancelled`);
    expect(text(alert as Message)).toContain("not trainops");
  }, 240_000);

  it("killed after it journalled the cancel, the stop is finished on the next start, told once", async () => {
    const d = daemon();
    const jobId = await runningJob(d);
    const journalRepo = new OperationJournalRepo(d.db);
    const cli = spawnTrainops(["stop", "--yes", "--config", d.configPath]);
    // The barrier: the stop's own journal says the cancel may have gone out.
    await waitUntil(() => journalRepo.list(RUN, 1)[0]?.step === "stop-sent", {
      timeoutMs: 60_000,
      intervalMs: 5,
      what: `the stop to journal stop-sent:\n${cli.stderr()}`,
    });
    cli.child.kill("SIGKILL");
    await cli.exited;
    expect(journalRepo.unfinished(RUN)).toHaveLength(1);
    expect(new ChangeLocksRepo(d.db).get(RUN)).not.toBeNull();

    // The next start finds the lock of a process that is gone and rolls the stop forward.
    const product = openProduct({ config: d.config, configDir: fx.sim.root, sinks: [] });
    try {
      expect(await product.operations.recover(RUN)).toBe(1);
    } finally {
      await product.close();
    }
    const entry = journalRepo.list(RUN, 1)[0];
    expect(entry?.outcome).toBe("recovered-forward");
    expect(entry?.detail).toMatch(
      new RegExp(
        `Slurm job ${jobId} (was still \\w+; cancelled it as asked \\(CANCELLED\\)|ended \\(CANCELLED\\): training is stopped, as asked)`,
      ),
    );
    expect(await fx.cluster.jobState(jobId)).toBe("CANCELLED");
    expect(new ChangeLocksRepo(d.db).get(RUN)).toBeNull();
    const recovered = new NoticesRepo(d.db)
      .list(RUN)
      .filter((n) => n.key.startsWith(`recovered:${RUN}:`));
    expect(recovered).toHaveLength(1);
    expect(recovered[0]?.message.severity).toBe("warning");
    expect(recovered[0]?.message.lines?.[1]).toBe(
      `Next: fix the cause, then /train restart ${RUN} resumes training.`,
    );

    await untilEnded(d, "the monitor to store the cancelled job");
    // The recovery's notice, and no job-end alert for a cancel trainops made.
    expect(d.sink.messages.map((m) => m.title)).toEqual([
      expect.stringContaining("interrupted change recovered"),
    ]);
  }, 240_000);

  describe("when the SSH user may not cancel the job", () => {
    let sshd: SshdHarness;
    let transport: Transport;

    beforeAll(async () => {
      // An unprivileged login on the same login node; the job is root's.
      sshd = await startSshd({ loginShellDelayMs: 0 });
      chmodSync(fx.cluster.dir, 0o755);
      const run = fx.runEntry() as unknown as RunConfig;
      transport = createTransport({
        ...run,
        ssh: sshd.runConfigSsh(),
      } as unknown as RunConfig);
    }, 60_000);

    afterAll(async () => {
      await transport?.close();
      await sshd?.stop();
    });

    it("says scancel failed with Slurm's words, records nothing as done, and the job runs on", async () => {
      const d = daemon(transport);
      const jobId = await runningJob(d);
      const responder = new RecordingResponder();
      const preview = await d.core.execute(req("stop"), responder);
      expect(preview.title).toBe(`Confirm: Stop training of ${RUN}`);
      await d.core.press({ buttonId: button(preview, "Confirm"), invoker: CONSOLE }, responder);
      await d.core.idle();
      const answer = responder.messages.at(-1) as Message;
      expect(answer.severity, textOf(answer)).toBe("critical");
      expect(textOf(answer)).toContain(`Stopping ${RUN} failed: scancel failed on the login node`);
      expect(textOf(answer)).toMatch(/Access\/permission denied/);
      expect(textOf(answer)).toContain(`Slurm job ${jobId} was not cancelled and runs on`);
      expect(stopAudit(d.db)).toEqual(["requested", "confirmed", "failed"]);
      expect(journal(d.db)).toEqual([
        expect.objectContaining({ step: "stop-sent", outcome: "failed" }),
      ]);
      // The marks written ahead of scancel are taken back: a later end of this job alerts.
      expect(new SlurmJobsRepo(d.db).get(RUN, String(jobId))?.cancelledByTrainops).toBe(false);
      expect(await fx.cluster.jobState(jobId)).toBe("RUNNING");

      await fx.cluster.exec("scancel", [String(jobId)]);
      await untilEnded(d, "the job's end after a cancel from outside");
      expect(
        d.sink.messages.some((m) => m.title.includes(`Slurm job ${jobId} was cancelled`)),
      ).toBe(true);
    }, 240_000);
  });
});
