// Regenerates configs/trainops.schema.json from the zod schema: `npm run schema`.
import { writeConfigJsonSchema } from "../src/config/config-json-schema.ts";

const target = new URL("../configs/trainops.schema.json", import.meta.url);
writeConfigJsonSchema(target.pathname);
process.stdout.write(`wrote ${target.pathname}\n`);
