import type { GpuSample } from "../model/monitoring.ts";

/**
 * What names a GPU (its index, model, uuid, node): the same in every sample of a run, so it is
 * stored once per run and position (`sample_gpus`), not in every sample row.
 */
export type GpuIdentity = Pick<GpuSample, "index" | "name" | "uuid" | "node">;

/** A GPU's figures as a sample row keeps them: memory used and total, utilisation, °C, W. */
type GpuFigures = [number | null, number | null, number | null, number | null, number | null];

/** The identity of each GPU of a sample, by position, as stored. */
export function gpuIdentities(gpus: readonly GpuSample[]): string[] {
  return gpus.map((g) =>
    JSON.stringify({
      index: g.index,
      name: g.name,
      ...(g.uuid !== undefined ? { uuid: g.uuid } : {}),
      ...(g.node !== undefined ? { node: g.node } : {}),
    }),
  );
}

/** A sample's GPUs as a row stores them: `[[used, total, util, °C, W], …]` by position. */
export function packGpuFigures(gpus: readonly GpuSample[]): string {
  return JSON.stringify(
    gpus.map(
      (g): GpuFigures => [
        g.memoryUsedMiB,
        g.memoryTotalMiB,
        g.utilizationPercent,
        g.temperatureC,
        g.powerW,
      ],
    ),
  );
}

/**
 * A row's GPUs back as samples: the figures joined with the run's identities by position. Rows
 * written before figures were packed hold whole GPU objects and come back as they are.
 */
export function unpackGpus(json: string, identities: readonly GpuIdentity[]): GpuSample[] {
  const parsed = JSON.parse(json) as Array<GpuFigures | GpuSample>;
  return parsed.map((entry, position) => {
    if (!Array.isArray(entry)) return entry;
    const identity = identities[position] ?? { index: position, name: "" };
    const gpu: GpuSample = {
      index: identity.index,
      name: identity.name,
      memoryUsedMiB: entry[0],
      memoryTotalMiB: entry[1],
      utilizationPercent: entry[2],
      temperatureC: entry[3],
      powerW: entry[4],
    };
    if (identity.uuid !== undefined) gpu.uuid = identity.uuid;
    if (identity.node !== undefined) gpu.node = identity.node;
    return gpu;
  });
}
