// Regenerates configs/trainops.schema.json and configs/plan.schema.json from the zod schemas:
// `npm run schema`.
import { writeEditorSchemas } from "../src/runtime/editor-schemas.ts";

const configs = new URL("../configs", import.meta.url).pathname;
for (const path of writeEditorSchemas(configs)) process.stdout.write(`wrote ${path}\n`);
