import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";
import { SlowFirstSequencer } from "./test/slow-first-sequencer.ts";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    // Most files wait on real processes and sockets (sshd, Slurm, daemons, fake chat servers)
    // far more than they compute: one file more than there are cores keeps the cores busy.
    // vitest's default (cores - 1) ran CI's 2 cores one file at a time; two files per core
    // starved the timing-bound tests (a 2-s probe deadline, a first SSH handshake) of CPU.
    maxWorkers: Math.min(8, Math.max(2, availableParallelism() + 1)),
    sequence: { sequencer: SlowFirstSequencer },
    globalSetup: ["test/build-cli.global-setup.ts"],
    reporters: ["default"],
  },
});
