import type { GpuSample } from "../../model/monitoring.ts";
import { parseGpuQuery } from "../parsers/nvidia-smi-parser.ts";

/** GPUs of every node, and the nodes whose nvidia-smi gave none (with what it said). */
export interface NodeGpus {
  gpus: GpuSample[];
  failures: Array<{ node: string; text: string }>;
}

/**
 * Parses the per-node nvidia-smi step (`n1: 0, NVIDIA A100…`): each node's lines go through the
 * same parser as a single VM's, and every GPU is tagged with its node. Lines without a node
 * prefix (srun's own complaints) are ignored.
 */
export function parseNodeGpuRows(text: string): NodeGpus {
  const byNode = new Map<string, string[]>();
  for (const line of text.split("\n")) {
    const match = /^([A-Za-z0-9][\w.-]*): (.*)$/.exec(line);
    // srun's and slurmstepd's own complaints look like node lines; they are not GPUs.
    if (!match || match[1] === "srun" || match[1] === "slurmstepd") continue;
    const node = match[1] as string;
    let lines = byNode.get(node);
    if (!lines) {
      lines = [];
      byNode.set(node, lines);
    }
    lines.push(match[2] ?? "");
  }
  const out: NodeGpus = { gpus: [], failures: [] };
  for (const [node, lines] of [...byNode].sort(([a], [b]) =>
    a.localeCompare(b, "en", { numeric: true }),
  )) {
    const parsed = parseGpuQuery(lines.join("\n"));
    if (parsed.ok) out.gpus.push(...parsed.value.map((gpu) => ({ ...gpu, node })));
    else out.failures.push({ node, text: lines.join("\n").slice(0, 300) });
  }
  return out;
}
