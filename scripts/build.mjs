// `npm run build` (and npm's `prepare`, so `npm ci` runs it): bundles the CLI into dist/ so a
// call loads a few files instead of hundreds and transpiles nothing. Plain JavaScript, so it
// runs before anything is built. Type checking stays with `npm run typecheck`.
//
// - Every command's heavy modules are imported dynamically in src/cli/commands, and esbuild's
//   code splitting keeps them in their own chunks: `trainops --help` loads none of them.
// - Packages stay external (loaded from node_modules as usual), except the pure-ESM ones every
//   command needs, whose hundreds of small files are what a cold start pays for.
// - All output goes to dist/cli/, and each source file's `import.meta.url` is rewritten to the
//   URL of that source file, so relative paths to the repository's files (configs/, bin/, the
//   simulator's assets and entry script, which runs from source in its own process) resolve as
//   they do when running the sources.
import { readFileSync, rmSync } from "node:fs";
import { dirname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const src = join(root, "src");
const out = join(root, "dist");
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
const BUNDLED = new Set(["zod", "yaml"]);
const external = Object.keys(pkg.dependencies).filter((name) => !BUNDLED.has(name));

/** Rewrites `import.meta.url` in each source file to that file's own URL. */
const importMetaUrl = {
  name: "import-meta-url",
  setup(b) {
    b.onLoad({ filter: /\.ts$/ }, (args) => {
      const text = readFileSync(args.path, "utf8");
      if (!args.path.startsWith(src) || !text.includes("import.meta.url")) return undefined;
      const source = relative(join(out, "cli"), args.path).split(sep).join("/");
      return {
        contents: text.replaceAll(
          "import.meta.url",
          `new URL(${JSON.stringify(source)}, import.meta.url).href`,
        ),
        loader: "ts",
      };
    });
  },
};

rmSync(out, { recursive: true, force: true });
await build({
  absWorkingDir: root,
  entryPoints: ["src/cli/main.ts"],
  outdir: "dist/cli",
  chunkNames: "[name]-[hash]",
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  external,
  plugins: [importMetaUrl],
  // Bundled CommonJS (yaml's node build) requires Node built-ins; ESM has no `require`.
  banner: {
    js: 'import { createRequire as __trainopsRequire } from "node:module"; const require = __trainopsRequire(import.meta.url);',
  },
  logLevel: "warning",
});
