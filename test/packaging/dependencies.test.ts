import { readdirSync, readFileSync, statSync } from "node:fs";
import { builtinModules } from "node:module";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { nativeBuildHint, nodePrefix } from "../../src/store/native-build-hint.ts";

const pkg = JSON.parse(readFileSync("package.json", "utf8")) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  allowScripts: Record<string, boolean>;
};
const lock = JSON.parse(readFileSync("package-lock.json", "utf8")) as {
  packages: Record<string, { hasInstallScript?: boolean }>;
};

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

/** Package names a file imports (static and dynamic), without node: builtins. */
function importedPackages(text: string): string[] {
  const specifiers = [
    ...text.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|^import\s+)["']([@a-z0-9][^"'\s]*)["']/gm),
  ].map((m) => m[1] as string);
  return specifiers
    .filter((s) => !s.startsWith("node:") && !builtinModules.includes(s.split("/")[0] as string))
    .map((s) =>
      s.startsWith("@") ? s.split("/").slice(0, 2).join("/") : (s.split("/")[0] as string),
    );
}

const runtimeCode = [...files("src"), ...files("bin")].filter((f) => /\.(ts|js)$/.test(f));

describe("package.json dependencies", () => {
  it("runtime code imports only runtime dependencies (a test-only package is a devDependency)", () => {
    const used = new Set(runtimeCode.flatMap((f) => importedPackages(readFileSync(f, "utf8"))));
    expect(used).toContain("better-sqlite3");
    expect(used.size).toBeGreaterThan(8);
    const missing = [...used].filter((name) => !(name in pkg.dependencies));
    expect(missing).toEqual([]);
  });

  it("every runtime dependency is used by runtime code", () => {
    const text = runtimeCode.map((f) => readFileSync(f, "utf8")).join("\n");
    const unused = Object.keys(pkg.dependencies).filter((name) => !text.includes(`"${name}`));
    expect(unused).toEqual([]);
    expect(pkg.devDependencies.ws).toBeDefined();
    expect(pkg.dependencies.ws).toBeUndefined();
  });

  it("allowScripts (npm's install-script policy, `npm approve-scripts`) covers exactly the packages with install scripts", () => {
    const withScripts = Object.entries(lock.packages)
      .filter(([path, entry]) => path.startsWith("node_modules/") && entry.hasInstallScript)
      .map(([path]) => path.slice(path.lastIndexOf("node_modules/") + "node_modules/".length));
    expect(Object.keys(pkg.allowScripts).sort()).toEqual([...new Set(withScripts)].sort());
    // The one that must build runs; the optional speed-ups of ssh2 stay off.
    expect(pkg.allowScripts["better-sqlite3"]).toBe(true);
    expect(pkg.allowScripts["cpu-features"]).toBe(false);
  });
});

describe("native build", () => {
  it("a better-sqlite3 built for another Node is named, with the rebuild against this Node's headers", () => {
    const error = Object.assign(
      new Error(
        "The module 'better_sqlite3.node' was compiled against a different Node.js version using NODE_MODULE_VERSION 115. This version of Node.js requires NODE_MODULE_VERSION 127.",
      ),
      { code: "ERR_DLOPEN_FAILED" },
    );
    const hint = nativeBuildHint(error) ?? "";
    expect(hint).toContain(`npm_config_nodedir="${nodePrefix()}" npm rebuild better-sqlite3`);
    expect(nativeBuildHint(new Error("SQLITE_CANTOPEN: unable to open database file"))).toBeNull();
    expect(nodePrefix("/home/me/.nvm/versions/node/v20.11.0/bin/node")).toBe(
      "/home/me/.nvm/versions/node/v20.11.0",
    );
    expect(nodePrefix("/home/me/.volta/tools/image/node/20.11.0/bin/node")).toBe(
      "/home/me/.volta/tools/image/node/20.11.0",
    );
  });
});
