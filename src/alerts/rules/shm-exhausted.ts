import { eventRule } from "./event-rule.ts";

/** Workers hand batches over through /dev/shm; when it is full they die with a bus error. */
export const shmExhaustedRule = eventRule({
  name: "shm_exhausted",
  label: "shared memory exhaustion",
  kinds: ["shm_exhausted"],
  severity: "critical",
  describe: () => ({
    headline: "shared memory (/dev/shm) exhausted",
    facts: ["Data-loader workers could not allocate shared memory to pass batches."],
    fix: "Usual fix: a larger /dev/shm (`sudo mount -o remount,size=32G /dev/shm`, or `--shm-size` for Docker), or fewer workers.",
  }),
});
