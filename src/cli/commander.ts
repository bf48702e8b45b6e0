import { createRequire } from "node:module";
import type * as CommanderModule from "commander";

// commander is CommonJS, loaded through require: importing it from ESM makes Node lex it for
// named exports and start its CommonJS-from-ESM machinery, CPU that every command would pay.
const require = createRequire(import.meta.url);
const commander = require("commander") as typeof CommanderModule;

/** commander's classes the CLI builds its commands and errors from. */
export const { Command, CommanderError, InvalidArgumentError } = commander;
