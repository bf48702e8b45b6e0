import { didYouMean } from "./did-you-mean.ts";

/**
 * Problems with the run names a channel's `digest.runs` lists: each must be a configured run,
 * or the digest would silently leave it out.
 */
export function unknownDigestRuns(value: unknown): string[] {
  const root = value as {
    runs?: unknown;
    alerts?: { webhooks?: unknown; email?: unknown };
    discord?: unknown;
    slack?: unknown;
  } | null;
  if (!root || !Array.isArray(root.runs)) return [];
  const names = root.runs
    .map((run) => (run as { name?: unknown } | null)?.name)
    .filter((name): name is string => typeof name === "string");
  const channels: Array<[string, unknown]> = [
    ["discord", root.discord],
    ["slack", root.slack],
    ["alerts.email", root.alerts?.email],
  ];
  if (Array.isArray(root.alerts?.webhooks)) {
    root.alerts.webhooks.forEach((hook, i) => {
      channels.push([`alerts.webhooks[${i}]`, hook]);
    });
  }
  const problems: string[] = [];
  for (const [path, channel] of channels) {
    const runs = (channel as { digest?: { runs?: unknown } } | null)?.digest?.runs;
    if (!Array.isArray(runs)) continue;
    runs.forEach((run, i) => {
      if (typeof run !== "string" || names.includes(run)) return;
      const hint = didYouMean(run, names);
      const fix = hint ? `did you mean "${hint}"?` : `use one of ${names.join(", ")}`;
      problems.push(`${path}.digest.runs[${i}]: no run is named "${run}" — fix: ${fix}`);
    });
  }
  return problems;
}
