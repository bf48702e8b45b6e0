import { describe, expect, it } from "vitest";
import { createConnectGate } from "../../src/transport/connect-gate.ts";

describe("createConnectGate", () => {
  it("runs at most max attempts at once, the rest in turn as slots free up, failures included", async () => {
    const gate = createConnectGate(3);
    let inFlight = 0;
    let peak = 0;
    const finishers: Array<(ok: boolean) => void> = [];
    const attempts = Array.from({ length: 8 }, (_, i) =>
      gate(
        () =>
          new Promise<number>((resolve, reject) => {
            inFlight += 1;
            peak = Math.max(peak, inFlight);
            finishers.push((ok) => {
              inFlight -= 1;
              if (ok) resolve(i);
              else reject(new Error(`attempt ${i} failed`));
            });
          }),
      ).then(
        (value) => `ok ${value}`,
        (error: Error) => error.message,
      ),
    );
    // Barrier: each step lets the microtasks run until the next attempt has started.
    const settle = () => new Promise((resolve) => setImmediate(resolve));
    await settle();
    expect(finishers).toHaveLength(3);
    let finished = 0;
    while (finished < 8) {
      const finish = finishers[finished] as (ok: boolean) => void;
      finish(finished % 2 === 0);
      finished += 1;
      await settle();
      expect(inFlight).toBeLessThanOrEqual(3);
    }
    expect(peak).toBe(3);
    expect(await Promise.all(attempts)).toEqual([
      "ok 0",
      "attempt 1 failed",
      "ok 2",
      "attempt 3 failed",
      "ok 4",
      "attempt 5 failed",
      "ok 6",
      "attempt 7 failed",
    ]);
  });
});
