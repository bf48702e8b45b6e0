import { readCheckpoint, writeCheckpoint } from "./checkpoint.ts";
import { DataWorkerPool } from "./data-workers.ts";
import { EpochGate } from "./epoch-gate.ts";
import { GpuStateWriter, sampleGpu } from "./gpu-state.ts";
import { InterruptibleSleep } from "./interruptible-sleep.ts";
import { type StepCost, stepCost } from "./performance-model.ts";
import { PythonLog } from "./python-log.ts";
import { SeededRandom } from "./seeded-random.ts";
import { inWorkdir, type SimulatorOptions } from "./simulator-options.ts";
import {
  configErrorTraceback,
  cudaOomTraceback,
  genericCrashTraceback,
  oomFigures,
  signalName,
  workerKilledTraceback,
} from "./tracebacks.ts";
import { readTrainingConfig, type TrainingConfig, TrainingConfigError } from "./training-config.ts";
import { TrainingCurve } from "./training-curve.ts";
import { headerLines, humanDuration, shownPath, stepLine } from "./training-lines.ts";

const MAIN = "__main__";
const TRAINER = "vesuvius.trainer";
/** GPU memory with only the CUDA context and weights loaded, before the first batch. */
const LOADING_VRAM_GIB = 1.2;

type Phase = "loading" | "training" | "stalled" | "stopping";

/** Runs one simulated training process to its end; resolves to the exit status. */
export async function runTrainer(options: SimulatorOptions): Promise<number> {
  const log = new PythonLog(options.log === null ? null : inWorkdir(options.workdir, options.log));
  let config: TrainingConfig;
  try {
    config = readTrainingConfig(inWorkdir(options.workdir, options.config));
  } catch (error) {
    if (!(error instanceof TrainingConfigError)) throw error;
    log.raw(configErrorTraceback(options.workdir, error.pythonException));
    return 1;
  }
  return new SimulatedTrainer(options, config, log).run();
}

class SimulatedTrainer {
  private readonly random: SeededRandom;
  private readonly cost: StepCost;
  private readonly total: number;
  private readonly stepsPerEpoch: number;
  private readonly epochs: number;
  private readonly checkpointPath: string;
  private readonly gpu: GpuStateWriter | null;
  private readonly workers: DataWorkerPool;
  private readonly curve: TrainingCurve;
  private readonly sleeper: InterruptibleSleep;
  private readonly gate: EpochGate | null;
  private step = 0;
  private phase: Phase = "loading";
  private stopSignal: NodeJS.Signals | null = null;
  private workerDeath: { pid: number; signal: NodeJS.Signals | null } | null = null;

  constructor(
    private readonly options: SimulatorOptions,
    private readonly config: TrainingConfig,
    private readonly log: PythonLog,
  ) {
    this.random = new SeededRandom(options.seed);
    this.cost = stepCost(config);
    this.stepsPerEpoch = options.stepsPerEpoch ?? config.stepsPerEpoch;
    this.epochs = options.epochs ?? config.epochs;
    this.total = this.stepsPerEpoch * this.epochs;
    this.curve = new TrainingCurve({
      stepsPerEpoch: this.stepsPerEpoch,
      epochs: this.epochs,
      total: this.total,
      learningRate: config.learningRate,
      nanAtStep: options.nanAtStep,
      random: this.random,
    });
    this.sleeper = new InterruptibleSleep(options.timeScale);
    this.gate = options.epochGate === null ? null : new EpochGate(options.epochGate);
    this.checkpointPath = inWorkdir(options.workdir, options.checkpoint);
    this.gpu = options.stateDir === null ? null : new GpuStateWriter(options.stateDir);
    this.workers = new DataWorkerPool({
      count: config.workers,
      memoryMiB: options.workerMemoryMiB,
      onDeath: (pid, signal) => {
        this.workerDeath ??= { pid, signal };
        this.sleeper.interrupt();
        this.gate?.interrupt();
      },
    });
  }

  async run(): Promise<number> {
    const onSignal = (signal: NodeJS.Signals) => {
      this.stopSignal ??= signal;
      this.sleeper.interrupt();
      this.gate?.interrupt();
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
    process.on("SIGHUP", () => {}); // nohup semantics even when started without nohup
    const publisher = setInterval(() => this.publish(), 250);
    try {
      return await this.train();
    } finally {
      clearInterval(publisher);
      this.phase = "stopping";
      await this.workers.stop();
      this.gpu?.clear();
      this.log.close();
    }
  }

  private async train(): Promise<number> {
    for (const line of headerLines(this.config, new Date())) this.log.info(MAIN, line);
    this.workers.start();
    const checkpoint = readCheckpoint(this.checkpointPath);
    const shown = shownPath(this.options.workdir, this.checkpointPath);
    if (checkpoint !== null) {
      this.step = Math.min(checkpoint.step, this.total);
      this.log.info(
        MAIN,
        `Resuming from checkpoint ${shown} at step ${this.step} (epoch ${this.curve.epochOf(this.step + 1)})`,
      );
    } else {
      this.log.info(MAIN, `No checkpoint at ${shown}: starting from step 0`);
    }
    this.publish();
    if (!(await this.sleep(this.options.startupSeconds))) return this.stop();
    this.log.info(MAIN, "Starting training...");
    this.phase = "training";
    this.publish();
    const firstStep = this.step + 1;
    if (this.step % this.stepsPerEpoch !== 0) {
      this.log.info(
        TRAINER,
        `Epoch ${this.curve.epochOf(firstStep)}/${this.epochs} resumed at step ${firstStep}`,
      );
    }
    let epochStartedAt = this.step;
    while (this.step < this.total) {
      const next = this.step + 1;
      if ((next - 1) % this.stepsPerEpoch === 0) {
        this.log.info(TRAINER, `Epoch ${this.curve.epochOf(next)}/${this.epochs} started`);
        epochStartedAt = this.step;
        if (!(await this.holdAtEpoch(this.curve.epochOf(next)))) return this.stop();
      }
      if (this.options.stallAtStep !== null && next >= this.options.stallAtStep) {
        this.phase = "stalled";
        await this.sleep(Number.POSITIVE_INFINITY);
        return this.stop();
      }
      const seconds = this.random.jitter(this.cost.stepSeconds, 0.04);
      if (!(await this.sleep(seconds))) return this.stop();
      const failure = this.failureAt(next, next - firstStep + 1);
      if (failure !== null) return failure;
      this.step = next;
      if (next % this.config.logEvery === 0) {
        this.log.info(
          TRAINER,
          stepLine({
            step: next,
            total: this.total,
            epoch: this.curve.epochOf(next),
            epochs: this.epochs,
            loss: this.curve.lossAt(next),
            lr: this.curve.learningRateAt(next),
            stepSeconds: seconds,
          }),
        );
      }
      if (next % this.config.checkpointEvery === 0) this.saveCheckpoint("Saving checkpoint");
      if (next % this.stepsPerEpoch === 0) {
        if (!(await this.endEpoch(next, next - epochStartedAt))) return this.stop();
      }
    }
    this.log.info(MAIN, `Training finished: ${this.total} steps, ${this.epochs} epochs`);
    this.saveCheckpoint("Saving final checkpoint");
    return 0;
  }

  /** The way this step ends the process, or null when it completes. */
  private failureAt(step: number, stepsSinceStart: number): number | null {
    if (this.workerDeath !== null) return this.workerDied();
    if (this.options.crashAtStep === step) {
      this.log.raw(genericCrashTraceback(this.options.workdir, step));
      return 1;
    }
    if (stepsSinceStart < this.options.failAfterSteps) return null;
    if (this.cost.vramGiB > this.options.vramLimitGiB) {
      this.log.raw(
        cudaOomTraceback(
          this.options.workdir,
          oomFigures(this.options.vramLimitGiB, this.config.batchSize, this.random),
        ),
      );
      return 1;
    }
    if (this.cost.hostRamGiB > this.options.ramLimitGiB) {
      const victim = this.workers.pids()[0];
      if (victim === undefined) {
        this.log.raw("Killed");
        return 137;
      }
      // The kernel's OOM killer picks a worker; the DataLoader notices and raises.
      this.workerDeath = { pid: victim, signal: "SIGKILL" };
      this.workers.kill(victim, "SIGKILL");
      return this.workerDied();
    }
    return null;
  }

  private workerDied(): number {
    const death = this.workerDeath!;
    const name = signalName(death.signal);
    this.log.raw(workerKilledTraceback(this.options.workdir, death.pid, name));
    return 1;
  }

  private async endEpoch(step: number, steps: number): Promise<boolean> {
    const epoch = this.curve.epochOf(step);
    this.log.info(
      TRAINER,
      `Epoch ${epoch}/${this.epochs} Train - Loss: ${this.curve.lossAt(step).toFixed(4)} - ${steps} steps`,
    );
    this.log.info(TRAINER, "Running validation...");
    if (!(await this.sleep(this.cost.stepSeconds * 2))) return false;
    const val = this.curve.lossAt(step) + this.random.between(-0.01, 0.02);
    this.log.info(
      TRAINER,
      `Epoch ${epoch}/${this.epochs} Val - Loss: ${val.toFixed(4)} - epoch time ${humanDuration(steps * this.cost.stepSeconds)}`,
    );
    if (!this.config.persistentWorkers && step < this.total) {
      // Without persistent_workers the DataLoader re-creates its workers every epoch.
      await this.workers.stop();
      this.workers.start();
    }
    return true;
  }

  /** Graceful stop after SIGINT/SIGTERM, or the exit after a worker died mid-sleep. */
  private stop(): number {
    if (this.workerDeath !== null && this.stopSignal === null) return this.workerDied();
    this.phase = "stopping";
    if (this.stopSignal === "SIGINT") {
      this.log.warning(MAIN, `KeyboardInterrupt: stopping training at step ${this.step}`);
    } else {
      this.log.warning(
        MAIN,
        `Received ${this.stopSignal ?? "stop"}: stopping training at step ${this.step}`,
      );
    }
    this.saveCheckpoint("Saving checkpoint");
    this.log.info(MAIN, "Checkpoint saved. Exiting.");
    return 0;
  }

  private saveCheckpoint(what: string): void {
    const shown = shownPath(this.options.workdir, this.checkpointPath);
    this.log.info(MAIN, `${what} at step ${this.step} to ${shown}`);
    writeCheckpoint(this.checkpointPath, {
      step: this.step,
      epoch: this.curve.epochOf(Math.max(1, this.step)),
      savedAt: new Date().toISOString(),
      workers: this.config.workers,
      batchSize: this.config.batchSize,
    });
  }

  /** Holds at an epoch's start under --epoch-gate; false when a signal or a worker death ended it. */
  private holdAtEpoch(epoch: number): Promise<boolean> {
    if (this.gate === null) return Promise.resolve(true);
    if (this.stopSignal !== null || this.workerDeath !== null) return Promise.resolve(false);
    return this.gate.hold({ epoch, workerPids: this.workers.pids() });
  }

  /** Waits `seconds` of simulated time; false when a signal or a worker death cut it short. */
  private sleep(seconds: number): Promise<boolean> {
    if (this.stopSignal !== null || this.workerDeath !== null) return Promise.resolve(false);
    return this.sleeper.sleep(seconds);
  }

  /** Writes the GPU state the fake nvidia-smi reports, with a little measurement noise. */
  private publish(): void {
    if (this.gpu === null) return;
    this.gpu.write(
      sampleGpu({
        pid: process.pid,
        vramGiB: this.phase === "loading" ? LOADING_VRAM_GIB : this.cost.vramGiB,
        totalGiB: this.options.vramLimitGiB,
        utilPercent:
          this.phase === "training" && !this.options.gpuIdle ? this.cost.gpuUtilPercent : 0,
        random: this.random,
      }),
    );
    this.gpu.writeSimState({
      pid: process.pid,
      phase: this.phase,
      step: this.step,
      totalSteps: this.total,
      epoch: this.curve.epochOf(Math.max(1, this.step)),
      workerPids: this.workers.pids(),
      settings: {
        workers: this.config.workers,
        batchSize: this.config.batchSize,
        persistentWorkers: this.config.persistentWorkers,
      },
      model: this.cost,
    });
  }
}
