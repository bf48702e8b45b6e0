import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SshdHarness, startSshd } from "./sshd.ts";

let sshd: SshdHarness;
beforeAll(async () => {
  sshd = await startSshd();
});
afterAll(() => sshd?.stop());

/** Fresh connections made one after the other; more than sshd's log once filled a pipe with. */
const CONNECTIONS = 120;

describe("test sshd harness", () => {
  it("serves fresh connections while the process that started it is blocked, and logs each", () => {
    const t = sshd.runConfigSsh();
    // timeout(1) ends an attempt that hangs, so a failure names the attempt instead of waiting
    // for sshd's LoginGraceTime.
    const ssh = [
      "timeout",
      "20",
      "ssh",
      "-p",
      String(t.port),
      "-i",
      t.privateKey,
      "-F",
      t.sshConfig,
      "-o",
      `UserKnownHostsFile=${t.knownHosts}`,
      "-o",
      "StrictHostKeyChecking=yes",
      "-o",
      "BatchMode=yes",
      // The classic key exchange: the default post-quantum one costs CPU this test does not need.
      "-o",
      "KexAlgorithms=curve25519-sha256",
      `${t.user}@${t.host}`,
      "true",
    ].join(" ");
    // One spawnSync for all: this process's event loop does not run until the last one ends,
    // as in a benchmark that measures each command with spawnSync.
    const loop = spawnSync(
      "bash",
      ["-c", `for i in $(seq ${CONNECTIONS}); do ${ssh} || { echo "failed at $i"; exit 1; }; done`],
      { encoding: "utf8" },
    );
    expect(loop.stdout).toBe("");
    expect(loop.status).toBe(0);
    const accepted = readFileSync(sshd.logPath, "utf8").match(/^Accepted publickey for /gm);
    expect(accepted).toHaveLength(CONNECTIONS);
  }, 120_000);
});
