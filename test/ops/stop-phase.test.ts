import { afterEach, beforeEach, expect, it } from "vitest";
import { PhasesRepo } from "../../src/store/phases-repo.ts";
import { LocalTransport } from "../../src/transport/local-transport.ts";
import { newPhaseAttempt } from "../harness/phase-factory.ts";
import { runSample } from "../harness/sample-factory.ts";
import { createOpsFixture, type OpsFixture } from "./ops-fixture.ts";

// A stop while a phase is being judged: the phase waits for a person instead of failing on
// "training stopped" and being rolled back, which would start training again.

const ACTOR = { platform: "cli", userId: "alice", name: "alice", channelId: "" };

let f: OpsFixture;
beforeEach(() => {
  f = createOpsFixture();
});
afterEach(() => f.cleanup());

async function trainerPids(): Promise<string> {
  const out = await new LocalTransport().run(`pgrep -f -- '${f.dir}/trainer.sh' || true`);
  return out.stdout.toString().trim();
}

it("closes the phase under evaluation as inconclusive, and the engine does not roll it back", async () => {
  f.sample({ step: 10, at: Date.now() });
  const restarted = await f.ops.apply(await f.ops.preview("restart", "exp"), ACTOR);
  expect(restarted.ok, restarted.summary).toBe(true);
  const phases = new PhasesRepo(f.db);
  const base = {
    run: "exp",
    plan: "safe-optimization",
    measureFrom: Date.now(),
    endedAt: null,
    workers: 1,
    batch: 1,
    paused: false,
  };
  phases.create(
    newPhaseAttempt({
      ...base,
      phaseIndex: 0,
      kind: "baseline",
      name: "baseline",
      state: "passed",
      startedAt: Date.now() - 2000,
    }),
  );
  const phase = phases.create(
    newPhaseAttempt({
      ...base,
      phaseIndex: 1,
      kind: "phase",
      name: "Phase 1",
      state: "evaluating",
      startedAt: Date.now() - 1000,
    }),
  );

  const stopped = await f.ops.apply(await f.ops.preview("stop", "exp"), ACTOR);
  expect(stopped.ok, stopped.summary).toBe(true);
  expect(await trainerPids()).toBe("");
  const after = phases.get(phase.id);
  expect(after).toMatchObject({ state: "inconclusive", paused: true, rolledBackAt: null });
  expect(after?.reason).toBe(
    "training stopped by alice; /train restart resumes it, then next-phase or rollback",
  );

  // The poll that sees training gone, then the engine: nothing is restarted.
  const at = Date.now();
  f.polls.insert({ run: "exp", startedAt: at, durationMs: 5, outcome: "ok", message: null });
  f.samples.insert(runSample({ run: "exp", at, reachable: true, alive: false, step: 11 }));
  expect((await f.ops.engine.tick("exp", at + 1)).action).toBe("none");
  expect(await trainerPids()).toBe("");
});
