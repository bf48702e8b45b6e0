/**
 * Simulated-time waits that a signal can cut short. The trainer sleeps between steps; SIGTERM
 * or a dead data worker must end the wait at once, as they interrupt a real training step.
 */
export class InterruptibleSleep {
  private wake: (() => void) | null = null;

  /** `timeScale` simulated seconds pass per real second. */
  constructor(private readonly timeScale: number) {}

  /** Waits `seconds` of simulated time (forever when infinite); false when interrupted. */
  sleep(seconds: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = Number.isFinite(seconds)
        ? setTimeout(() => done(true), (seconds * 1000) / this.timeScale)
        : // An interval keeps the event loop alive while nothing else is scheduled.
          setInterval(() => {}, 60_000);
      const done = (completed: boolean) => {
        clearTimeout(timer);
        clearInterval(timer);
        this.wake = null;
        resolve(completed);
      };
      this.wake = () => done(false);
    });
  }

  /** Ends the current wait, if any, with `false`. */
  interrupt(): void {
    this.wake?.();
  }
}
