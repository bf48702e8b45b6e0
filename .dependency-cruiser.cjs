/**
 * The layering of src/, checked by `npm run deps` (part of `npm test`). Imports go one way:
 * cli → demo → runtime → platforms → bot → alerts → ops → daemon → monitors/simulator → charts →
 * store/transport → message → model → config → core (a model may read a run's config; the
 * daemon's metrics read the poll scheduler's figures). A folder may import only folders listed
 * below it here, so no two folders can import each other (no cycle between folders), and
 * nothing below bot/ can import it. Platform libraries stay in their platform's folder, SSH in
 * transport/, SQLite in store/.
 */
const LAYERS = [
  ["cli"],
  ["demo"],
  ["runtime"],
  ["platforms/discord", "platforms/slack", "platforms/email"],
  ["bot"],
  ["alerts"],
  ["ops"],
  ["daemon"],
  ["monitors", "simulator"],
  ["charts"],
  ["store", "transport"],
  ["message"],
  ["model"],
  ["config"],
  ["core"],
];

const folder = (name) => `^src/${name}/`;
const any = (names) => `^src/(${names.join("|")})/`;

/** For each folder: it may not import its own layer's siblings nor anything above its layer. */
const layerRules = LAYERS.flatMap((layer, index) => {
  const above = LAYERS.slice(0, index).flat();
  return layer.map((name) => {
    const forbidden = [...above, ...layer.filter((other) => other !== name)];
    return {
      name: `layer:${name}`,
      comment: `src/${name} imports only folders below it: not ${forbidden.join(", ") || "—"}`,
      severity: "error",
      from: { path: folder(name) },
      to: { path: forbidden.length ? any(forbidden) : "^$" },
    };
  });
});

/** A library, and the one folder allowed to import it. */
const LIBRARIES = [
  { name: "discord", modules: "(discord\\.js|@discordjs/[^/]+|discord-api-types)", home: "platforms/discord" },
  { name: "slack", modules: "@slack/[^/]+", home: "platforms/slack" },
  { name: "ssh", modules: "ssh2", home: "transport" },
  { name: "sqlite", modules: "better-sqlite3", home: "store" },
  { name: "email", modules: "nodemailer", home: "platforms/email" },
];

const libraryRules = LIBRARIES.map(({ name, modules, home }) => ({
  name: `library:${name}`,
  comment: `only src/${home} imports ${modules}`,
  severity: "error",
  from: { path: "^src/", pathNot: folder(home) },
  to: { path: `(^|/)node_modules/${modules}/` },
}));

module.exports = {
  forbidden: [
    ...layerRules,
    ...libraryRules,
    {
      name: "layer:unknown-folder",
      comment: "every folder of src/ has a place in the layering above",
      severity: "error",
      from: { path: "^src/", pathNot: any(LAYERS.flat()) },
      to: {},
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { extensions: [".ts", ".js", ".json"] },
  },
};
