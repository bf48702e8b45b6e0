import { eventRule } from "./event-rule.ts";

/** The driver reported a GPU fault (Xid) or the GPU fell off the bus: hardware or driver. */
export const gpuFaultRule = eventRule({
  name: "gpu_fault",
  label: "GPU fault",
  kinds: ["gpu_fault"],
  severity: "critical",
  describe: (event) => {
    const xid = event.detail?.xid;
    return {
      headline: xid !== undefined ? `GPU fault (Xid ${xid})` : "GPU fault",
      facts: ["The NVIDIA driver reported a GPU fault; training on this GPU is unreliable now."],
      fix: "Next: check `nvidia-smi -q` and `dmesg`; this usually needs a VM reboot or a GPU replacement before resuming from the last checkpoint.",
    };
  },
});
