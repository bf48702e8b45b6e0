import { readFileSync } from "node:fs";
import { afterAll, expect, it } from "vitest";
import { runTrainops } from "../harness/cli.ts";
import { type PytorchRun, startPytorchRun } from "../harness/pytorch-run.ts";
import { waitUntil } from "../harness/wait.ts";

let torch: PytorchRun | undefined;

afterAll(async () => {
  await torch?.stop();
});

it("`set workers=3` edits the real job's YAML, restarts it, and the monitor sees 3 workers", async () => {
  torch = await startPytorchRun({
    prefix: "trainops-torch-phase-",
    style: "logging",
    epochs: 1,
    stepsPerEpoch: 2000,
    stepSleep: 0.1,
  });
  const { config, path } = torch.config();
  const { monitor } = torch.attach(config);
  await torch.start(config);
  await torch.waitForLines(/step \d+\/2000 \| loss=/, 3);
  expect((await monitor.pollOnce()).sample.workers?.count).toBe(2);

  const set = await runTrainops(["set", "--run", "torch", "workers=3", "--yes", "--config", path], {
    timeoutMs: 150_000,
  });
  expect(set.stderr).toBe("");
  expect(set.stdout).toContain("Training stopped (SIGINT).");
  expect(set.stdout).toContain("✓ Set workers 3 applied; training restarted");
  expect(set.code).toBe(0);
  expect(readFileSync(torch.trainConfigPath, "utf8")).toContain(
    "  workers: 3            # DataLoader num_workers",
  );
  // The old job ended on Ctrl-C; the new one reads the YAML and forks three workers.
  expect(torch.readLog()).toMatch(/^KeyboardInterrupt/m);
  expect(torch.readLog()).toContain("training: 3 workers, batch 8, 1 epochs");
  await waitUntil(async () => (await monitor.pollOnce()).sample.workers?.count === 3, {
    timeoutMs: 30_000,
    what: "the monitor to count 3 workers",
  });
}, 200_000);
