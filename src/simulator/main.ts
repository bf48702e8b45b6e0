/**
 * Entry of the training simulator: `node --import tsx main.ts --workdir DIR --config REL.yaml
 * --log REL.log [--time-scale N] [--state-dir DIR] …` (flags: simulator-options.ts).
 *
 * The same script is also the body of each data-loader worker: workers are started with the
 * trainer's exact command line (as PyTorch's forked workers have) and told their role by an
 * environment variable, checked before anything heavy is loaded.
 */
import { runDataWorker, WORKER_ROLE_ENV } from "./data-worker-main.ts";

if (process.env[WORKER_ROLE_ENV] === "worker") {
  runDataWorker();
} else {
  const { parseSimulatorArgs, SimulatorUsageError } = await import("./simulator-options.ts");
  const { runTrainer } = await import("./trainer.ts");
  try {
    const options = parseSimulatorArgs(process.argv.slice(2));
    const code = await runTrainer(options);
    process.exit(code);
  } catch (error) {
    if (error instanceof SimulatorUsageError) {
      process.stderr.write(`train simulator: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
}
