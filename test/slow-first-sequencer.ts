import { BaseSequencer, type TestSpecification } from "vitest/node";

/**
 * The test files that take longest, longest first, as CI measured them on 2 cores (seconds):
 * they mostly wait on real daemons (Slurm's 30 s time-limit sweep, sshd, Discord back-off,
 * PyTorch). A file missing here just runs in vitest's own order.
 */
const SLOWEST_FIRST = [
  "test/slurm/slurm-time-limit.test.ts", // 95
  "test/demo/demo.test.ts", // 50
  "test/slurm/slurm-job-ended.test.ts", // 35
  "test/slurm/slurm-stop.test.ts", // 30
  "test/daemon/chat-outage.test.ts", // 31
  "test/daemon/daemon.test.ts", // 26
  "test/monitors/real-pytorch.test.ts", // 22
  "test/platforms/discord/reconnect.test.ts", // 22
  "test/alerts/slow-sink.test.ts", // 21
  "test/daemon/interrupted-change.test.ts", // 19
  "test/monitors/exactly-once.test.ts", // 18
  "test/simulator/simulator-process.test.ts", // 18
  "test/packaging/init.test.ts", // 16
  "test/daemon/hung-vm-alert.test.ts", // 15
  "test/monitors/hung-vm.test.ts", // 11
  "test/cli/monitor-cli.test.ts", // 13
  "test/alerts/simulator-e2e.test.ts", // 13
  "test/ops/run-process-set.test.ts", // 12
  "test/daemon/prometheus.test.ts", // 12
  "test/slurm/slurm-status.test.ts", // 11
];

/**
 * Starts the slowest files first. In a fresh CI checkout vitest has no timings and starts the
 * largest files first, so a short file that waits 90 s could start last and keep the run going
 * alone; started first, its wait overlaps everything else.
 */
export class SlowFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (file: TestSpecification) => {
      const at = SLOWEST_FIRST.findIndex((path) => file.moduleId.endsWith(path));
      return at === -1 ? SLOWEST_FIRST.length : at;
    };
    return sorted
      .map((file, order) => ({ file, order, rank: rank(file) }))
      .sort((a, b) => a.rank - b.rank || a.order - b.order)
      .map(({ file }) => file);
  }
}
