/**
 * Takes the instance lock of the store at argv[2] and holds it until killed, printing "held"
 * once it has it: a trainops that a test can SIGKILL at a known moment.
 */
import { acquireInstanceLock } from "../../src/daemon/instance-lock.ts";

await acquireInstanceLock(process.argv[2] as string);
process.stdout.write("held\n");
setInterval(() => {}, 60_000);
