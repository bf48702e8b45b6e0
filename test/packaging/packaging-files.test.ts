import { execFile } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { bindRules } from "../../src/alerts/rule-settings.ts";
import { loadConfig } from "../../src/config/load-config.ts";
import { configSchema } from "../../src/config/schema.ts";
import { startHttpEndpoint } from "../../src/daemon/http-endpoint.ts";
import { loadPlan } from "../../src/ops/plan-loader.ts";

const repo = (path: string) => fileURLToPath(new URL(`../../${path}`, import.meta.url));
const read = (path: string) => readFileSync(repo(path), "utf8");

/** Every object key declared anywhere in a zod schema (through optional, default, union, array). */
function schemaKeys(schema: unknown, into = new Set<string>()): Set<string> {
  const def = (schema as { def?: Record<string, unknown> }).def;
  if (!def) return into;
  if (def.type === "object") {
    for (const [key, inner] of Object.entries(def.shape as Record<string, unknown>)) {
      into.add(key);
      schemaKeys(inner, into);
    }
  }
  for (const inner of [def.innerType, def.element, ...((def.options as unknown[]) ?? [])]) {
    if (inner) schemaKeys(inner, into);
  }
  return into;
}

describe("configs/trainops.example.yaml", () => {
  const env = {
    HOME: "/home/ops",
    SSH_KEY_PASSPHRASE: "pass-phrase",
    DISCORD_WEBHOOK_URL: "https://discord.com/api/webhooks/1/abc",
    DISCORD_TOKEN: "discord-token",
    SLACK_BOT_TOKEN: "xoxb-1",
    SLACK_APP_TOKEN: "xapp-1",
    SLACK_SIGNING_SECRET: "signing-secret",
  };

  it("loads with its variables set, secrets coming from the environment", () => {
    const config = loadConfig(repo("configs/trainops.example.yaml"), { env });
    const run = config.runs[0];
    expect(run?.ssh).toMatchObject({
      host: "10.0.0.5",
      privateKey: "/home/ops/.ssh/id_ed25519",
      passphrase: "pass-phrase",
    });
    expect(run?.steps).toEqual({ format: "auto", perEpoch: 4000, epochs: 32 });
    expect(config.discord?.token).toBe("discord-token");
    expect(config.slack).toMatchObject({ botToken: "xoxb-1", appToken: "xapp-1" });
    expect(config.alerts.webhooks[0]?.url).toBe(env.DISCORD_WEBHOOK_URL);
  });

  it("loads without them too: every secret sits on an optional key", () => {
    const config = loadConfig(repo("configs/trainops.example.yaml"), {
      env: { HOME: "/home/ops", DISCORD_WEBHOOK_URL: env.DISCORD_WEBHOOK_URL },
    });
    expect(config.discord?.token).toBeUndefined();
    expect(config.runs[0]?.ssh).not.toHaveProperty("passphrase");
  });

  it("sets only alert rule settings that exist, and names a plan that loads", () => {
    const config = loadConfig(repo("configs/trainops.example.yaml"), { env });
    expect(bindRules(config).map((r) => r.name)).toContain("stalled");
    const plan = config.runs[0]?.plan as string;
    expect(loadPlan(plan, repo(".")).phases.length).toBeGreaterThan(0);
  });

  it("mentions every key name the schema declares, at any depth", () => {
    const text = read("configs/trainops.example.yaml");
    const keys = schemaKeys(configSchema);
    expect(keys.size).toBeGreaterThan(50);
    for (const key of keys) {
      expect(text, key).toMatch(new RegExp(`(^|[\\s{,#-])${key}:`, "m"));
    }
  });
});

describe("configs/grafana-dashboard.json", () => {
  const dashboard = JSON.parse(read("configs/grafana-dashboard.json")) as {
    schemaVersion: number;
    __inputs?: unknown;
    templating: {
      list: Array<{ name: string; type: string; query?: unknown; definition?: string }>;
    };
    panels: Array<{
      id: number;
      type: string;
      title: string;
      datasource?: { uid: string };
      targets?: Array<{ expr: string; datasource?: { uid: string } }>;
    }>;
  };
  const exported = new Set(read("src/daemon/run-metrics.ts").match(/trainops_[a-z_]+/g));
  // Series not about one run: the daemon's own build and its alert outbox.
  const global = new Set(["trainops_build_info", "trainops_outbox_depth"]);
  const queries = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
  const metricNames = (expr: string) =>
    (expr.match(/trainops_[a-z_]+/g) ?? []).map((n) => n.replace(/_(bucket|sum|count)$/, ""));

  it("queries only metrics that /metrics exports, each per-run one filtered by the run variable", () => {
    expect(exported.size).toBeGreaterThan(10);
    expect(queries.length).toBeGreaterThan(10);
    for (const expr of queries) {
      const names = metricNames(expr);
      expect(names.length, expr).toBeGreaterThan(0);
      for (const name of names) {
        expect(exported.has(name), `${name} in ${expr}`).toBe(true);
        if (!global.has(name))
          expect(expr, expr).toMatch(new RegExp(`${name}(_bucket)?\\{run="\\$run"\\}`));
      }
    }
  });

  it("graphs every exported series", () => {
    const queried = new Set(queries.flatMap(metricNames));
    expect([...exported].filter((name) => !queried.has(name))).toEqual([]);
  });

  it("picks its Prometheus with a datasource variable (file provisioning, Helm sidecar), not __inputs", () => {
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(dashboard.__inputs).toBeUndefined();
    expect(JSON.stringify(dashboard)).not.toContain("DS_PROMETHEUS");
    const ds = dashboard.templating.list.find((v) => v.name === "datasource");
    expect(ds).toMatchObject({ type: "datasource", query: "prometheus" });
    // Grafana's variable syntax, spelled without a template-looking literal.
    const uid = `$${"{datasource}"}`;
    for (const panel of dashboard.panels.filter((p) => p.type !== "row")) {
      expect(panel.datasource?.uid, panel.title).toBe(uid);
      for (const target of panel.targets ?? []) expect(target.datasource?.uid).toBe(uid);
    }
  });

  it("has a run variable that survives an outage, and unique panel ids", () => {
    const run = dashboard.templating.list.find((v) => v.name === "run");
    expect(run?.definition).toBe("label_values(trainops_run_up, run)");
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("ships a file-provisioning example that points at a folder for the dashboard", () => {
    const provider = read("configs/grafana/provisioning/dashboards/trainops.yaml");
    expect(provider).toMatch(/type: file/);
    expect(provider).toMatch(/path: \/var\/lib\/grafana\/dashboards\/trainops/);
  });
});

describe("Dockerfile", () => {
  const text = read("Dockerfile");
  const instructions = text
    .replace(/\\\n/g, " ")
    .split("\n")
    .filter((line) => line.trim() && !line.trim().startsWith("#"));

  it("builds in one stage and runs as a non-root user in another", () => {
    const froms = instructions.filter((line) => /^FROM /.test(line));
    expect(froms).toHaveLength(2);
    expect(froms[0]).toMatch(/ AS build$/);
    expect(text).toMatch(/^ARG NODE_IMAGE=node:20-bookworm-slim$/m);
    expect(text).toMatch(/apt-get install .*python3 make g\+\+/);
    expect(text).toMatch(/^ENV npm_config_nodedir=\/usr\/local/m);
    expect(text).toMatch(/^COPY --from=build /m);
    expect(instructions).toContain("USER trainops");
  });

  it("keeps the store on a volume, checks /healthz and starts the daemon", () => {
    expect(instructions).toContain('VOLUME ["/data"]');
    expect(instructions).toContain("EXPOSE 9464");
    expect(instructions.find((l) => l.startsWith("HEALTHCHECK "))).toContain(
      "http://127.0.0.1:9464/healthz",
    );
    expect(instructions).toContain('ENTRYPOINT ["node", "bin/trainops.js"]');
    expect(instructions).toContain('CMD ["start", "--config", "/etc/trainops/trainops.yaml"]');
  });

  it("HEALTHCHECK's script passes on 200 and fails on 503 or no server", async () => {
    const line = instructions.find((l) => l.startsWith("HEALTHCHECK ")) as string;
    const exec = JSON.parse(line.slice(line.indexOf("CMD ") + 4)) as string[];
    expect(exec.slice(0, 2)).toEqual(["node", "-e"]);
    let problem: string | null = null;
    const endpoint = await startHttpEndpoint({
      host: "127.0.0.1",
      port: 0,
      registry: new Registry(),
      health: () => problem,
    });
    const probe = (port: number) =>
      new Promise<number>((resolve) => {
        const script = (exec[2] as string).replace(":9464/", `:${port}/`);
        execFile(process.execPath, ["-e", script], (error) =>
          resolve(error ? Number(error.code ?? 1) : 0),
        );
      });
    try {
      expect(await probe(endpoint.port)).toBe(0);
      problem = "store closed";
      expect(await probe(endpoint.port)).toBe(1);
    } finally {
      await endpoint.close();
    }
    expect(await probe(endpoint.port)).toBe(1);
  });

  it("copies only what exists, and .dockerignore keeps secrets and builds out", () => {
    for (const line of instructions.filter((l) => /^COPY (?!--from)/.test(l))) {
      for (const path of line.split(/\s+/).slice(1, -1)) {
        expect(() => readFileSync(repo(path)), path).not.toThrow(/ENOENT/);
      }
    }
    const ignored = read(".dockerignore").split("\n");
    for (const entry of ["node_modules", ".git", "data", "trainops.yaml", ".env"]) {
      expect(ignored).toContain(entry);
    }
  });
});

describe("configs/trainops.service", () => {
  it("runs the daemon as trainops with the state directory writable only", () => {
    const unit = read("configs/trainops.service");
    for (const line of [
      "User=trainops",
      "ExecStart=/usr/bin/env node /opt/trainops/bin/trainops.js start --config /etc/trainops/trainops.yaml",
      "EnvironmentFile=/etc/trainops/env",
      "Restart=on-failure",
      "KillSignal=SIGTERM",
      "TimeoutStopSec=30",
      "NoNewPrivileges=true",
      "ProtectSystem=strict",
      "ReadWritePaths=/var/lib/trainops",
      "PrivateTmp=true",
    ]) {
      expect(unit.split("\n")).toContain(line);
    }
  });

  it.skipIf(!existsSync("/usr/bin/systemd-analyze"))("passes systemd-analyze verify", async () => {
    const dir = mkdtempSync(join(tmpdir(), "trainops-unit-"));
    try {
      copyFileSync(repo("configs/trainops.service"), join(dir, "trainops.service"));
      const output = await new Promise<string>((resolve) => {
        execFile("systemd-analyze", ["verify", join(dir, "trainops.service")], (error, out, err) =>
          resolve(`${error ? `exit ${error.code}\n` : ""}${out}${err}`),
        );
      });
      // Unknown keys and bad values are reported here (and otherwise ignored by systemd).
      expect(output).toBe("");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
