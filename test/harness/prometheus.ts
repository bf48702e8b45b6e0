import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { type OpsProcess, startOpsProcess } from "./ops-process.ts";

/** The Debian package's binaries. */
export const PROMETHEUS_BINARY = "/usr/bin/prometheus";
export const PROMTOOL_BINARY = "/usr/bin/promtool";

/**
 * Starts a real Prometheus in a temp dir that scrapes `target` (host:port) every second and
 * evaluates `ruleFiles` every second; storage in the temp dir, nothing else scraped.
 */
export function startPrometheus(target: string, ruleFiles: string[] = []): Promise<OpsProcess> {
  return startOpsProcess({
    binary: PROMETHEUS_BINARY,
    name: "prometheus",
    prepare(dir, port) {
      const rules = ruleFiles.map((file) => {
        const copy = join(dir, basename(file));
        copyFileSync(file, copy);
        return copy;
      });
      const config = join(dir, "prometheus.yml");
      writeFileSync(
        config,
        [
          "global:",
          "  scrape_interval: 1s",
          "  evaluation_interval: 1s",
          ...(rules.length ? ["rule_files:", ...rules.map((r) => `  - ${JSON.stringify(r)}`)] : []),
          "scrape_configs:",
          "  - job_name: trainops",
          "    static_configs:",
          `      - targets: [${JSON.stringify(target)}]`,
          "",
        ].join("\n"),
      );
      mkdirSync(join(dir, "data"), { recursive: true });
      return [
        `--config.file=${config}`,
        `--storage.tsdb.path=${join(dir, "data")}`,
        `--web.listen-address=127.0.0.1:${port}`,
        "--log.level=warn",
      ];
    },
  });
}

/** One instant query's result vector (or the error Prometheus gave). */
export async function instantQuery(
  prometheus: OpsProcess,
  expr: string,
): Promise<{
  status: string;
  error?: string;
  result: Array<{ metric: Record<string, string>; value: [number, string] }>;
}> {
  const url = `${prometheus.url}/api/v1/query?query=${encodeURIComponent(expr)}`;
  const body = (await (await fetch(url)).json()) as {
    status: string;
    error?: string;
    data?: { result: Array<{ metric: Record<string, string>; value: [number, string] }> };
  };
  return {
    status: body.status,
    ...(body.error ? { error: body.error } : {}),
    result: body.data?.result ?? [],
  };
}
