import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { appendFileSync, copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SshTransport } from "../../src/transport/ssh-transport.ts";
import { TransportConnectError, TransportTimeoutError } from "../../src/transport/transport.ts";
import { startSshd } from "../harness/sshd.ts";
import { useSshdTransports } from "../harness/sshd-transports.ts";
import { waitUntil } from "../harness/wait.ts";

const ssh = useSshdTransports();
const { transport } = ssh;

describe("SshTransport against a real sshd", () => {
  it("runs a script and returns stdout, stderr and the exit status", async () => {
    const t = transport();
    const result = await t.run("echo out; echo err >&2; exit 3");
    expect(result.stdout.toString()).toBe("out\n");
    expect(result.stderr).toBe("err\n");
    expect(result.code).toBe(3);
    const ok = await t.run("true");
    expect(ok).toEqual({ stdout: Buffer.alloc(0), stderr: "", code: 0 });
  });

  it("returns binary stdout byte for byte, NULs and boundary-like text included", async () => {
    const t = transport();
    const payload = Buffer.concat([
      randomBytes(300_000),
      Buffer.from("TRAINOPS0123456789abcdef0123456789abcdef>0;\0TRAINOPS<1;"),
      Buffer.from([0, 0, 0x3b, 0xff]),
      randomBytes(70_000),
    ]);
    const file = join(ssh.sshd.dir, "payload.bin");
    writeFileSync(file, payload, { mode: 0o644 });
    const result = await t.run(`cat '${file}'; printf 'TRAINOPS_EOF_x\\n' >&2`);
    expect(result.code).toBe(0);
    expect(result.stdout.equals(payload)).toBe(true);
    expect(result.stderr).toBe("TRAINOPS_EOF_x\n");
  });

  it("keeps a script's syntax error and stdin reads inside that script", async () => {
    const t = transport();
    const broken = await t.run("if then fi (");
    expect(broken.code).not.toBe(0);
    expect(broken.stderr).toMatch(/syntax error|unexpected/i);
    const reads = await t.run("cat; echo after");
    expect(reads.stdout.toString()).toBe("after\n");
    expect((await t.run("echo fine")).stdout.toString()).toBe("fine\n");
  });

  it("reuses one connection and one remote shell across many scripts", async () => {
    const t = transport();
    const before = ssh.sshd.connectionCount();
    const parents = new Set<string>();
    for (let i = 0; i < 30; i++) {
      const result = await t.run("echo $PPID");
      parents.add(result.stdout.toString().trim());
    }
    expect(parents.size).toBe(1);
    expect(ssh.sshd.connectionCount()).toBe(before + 1);
    expect(t.connectCount).toBe(1);
  });

  it("serialises concurrent calls on the one shell", async () => {
    const t = transport();
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => t.run(`sleep 0.0${i}; echo ${i}`)),
    );
    expect(results.map((r) => r.stdout.toString())).toEqual(
      Array.from({ length: 8 }, (_, i) => `${i}\n`),
    );
  });

  it("times out a hung command, kills it, and the next script works", async () => {
    const t = transport();
    // A duration no other test uses, so the process can be found on the shared machine.
    const hang = `sleep 100.${process.pid}${Math.floor(Math.random() * 1000)}`;
    await expect(t.run(hang, { timeoutMs: 300 })).rejects.toBeInstanceOf(TransportTimeoutError);
    const next = await t.run("echo alive");
    expect(next.stdout.toString()).toBe("alive\n");
    await expect(t.run(hang, { timeoutMs: 200 })).rejects.toThrow(/ran past 200 ms/);
    // The killed process group leaves no hung script behind. The kill runs in the background
    // through its own exec, which a loaded machine may take seconds to open: wait up to 15 s.
    const left = await t.run(
      `i=0; while [ $i -lt 150 ] && pgrep -f '^${hang}$' >/dev/null; do i=$((i+1)); sleep 0.1; done; pgrep -fc '^${hang}$'`,
      { timeoutMs: 30_000 },
    );
    expect(left.stdout.toString().trim()).toBe("0");
    expect(t.connectCount).toBe(1);
  });

  it("kills only the hung script on timeout, not a job an earlier script left running", async () => {
    const t = transport();
    const tag = `${process.pid}${Math.floor(Math.random() * 1000)}`;
    const job = `sleep 200.${tag}`;
    const hang = `sleep 100.${tag}`;
    await t.run(`${job} >/dev/null 2>&1 &`);
    await expect(t.run(hang, { timeoutMs: 300 })).rejects.toBeInstanceOf(TransportTimeoutError);
    const left = await t.run(
      `for i in $(seq 1 20); do pgrep -f '^${hang}$' >/dev/null || break; sleep 0.1; done; echo "$(pgrep -fc '^${hang}$') $(pgrep -fc '^${job}$')"; pkill -f '^${job}$'`,
    );
    expect(left.stdout.toString().trim()).toBe("0 1");
  });

  it("also runs scripts as fresh execs when asked (persistentShell: false)", async () => {
    const t = transport({}, { persistentShell: false });
    const a = await t.run("echo $$; exit 4");
    const b = await t.run("echo $$");
    expect(a.code).toBe(4);
    expect(a.stdout.toString()).not.toBe(b.stdout.toString());
    await expect(t.run("sleep 100", { timeoutMs: 200 })).rejects.toBeInstanceOf(
      TransportTimeoutError,
    );
  });

  it("follows a file from an offset over the same connection", async () => {
    const t = transport();
    const file = join(ssh.sshd.dir, "train.log");
    writeFileSync(file, "0123456789");
    await t.run("true");
    const chunks: Buffer[] = [];
    let ended = false;
    const handle = await t.follow({
      path: file,
      fromOffset: 4,
      onData: (chunk) => chunks.push(chunk),
      onEnd: () => {
        ended = true;
      },
    });
    const text = () => Buffer.concat(chunks).toString();
    await waitFor(() => text() === "456789");
    appendFileSync(file, "step 1/10\n");
    await waitFor(() => text() === "456789step 1/10\n");
    expect(t.connectCount).toBe(1);
    await handle.stop();
    expect(ended).toBe(false);
    // stop() ends the remote tail, so follows never pile up on the VM.
    const left = await t.run(
      `for i in $(seq 1 20); do pgrep -f -- '-f -- ${file}$' >/dev/null || break; sleep 0.1; done; pgrep -fc -- '-f -- ${file}$'`,
    );
    expect(left.stdout.toString().trim()).toBe("0");
  });

  it("quotes the followed path", async () => {
    const t = transport();
    const file = join(ssh.sshd.dir, "it's $(echo x) log");
    writeFileSync(file, "abc");
    const chunks: Buffer[] = [];
    const handle = await t.follow({
      path: file,
      fromOffset: 0,
      onData: (c) => chunks.push(c),
      onEnd: () => {},
    });
    await waitFor(() => Buffer.concat(chunks).toString() === "abc");
    await handle.stop();
  });
});

describe("host key verification", () => {
  it("refuses a known_hosts entry with another key, with the ssh-keygen -R fix", async () => {
    const other = join(ssh.sshd.dir, "other_known_hosts");
    const otherKey = join(ssh.sshd.dir, "other_host_key");
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", otherKey]);
    const pub = readFileSync(`${otherKey}.pub`, "utf8").split(" ");
    writeFileSync(other, `[127.0.0.1]:${ssh.sshd.port} ${pub[0]} ${pub[1]}\n`);
    const expected = execFileSync("ssh-keygen", ["-lf", `${otherKey}.pub`], {
      encoding: "utf8",
    }).split(" ")[1];
    const error = await transport({ knownHosts: other })
      .run("true")
      .catch((e: Error) => e);
    expect(error).toBeInstanceOf(TransportConnectError);
    expect((error as Error).message).toBe(
      `Host key for 127.0.0.1:${ssh.sshd.port} does not match known_hosts (expected ${expected}, got ${ssh.sshd.hostKeyFingerprint}). If the VM was rebuilt, run: ssh-keygen -R '[127.0.0.1]:${ssh.sshd.port}' -f '${other}'`,
    );
  });

  it("refuses a host missing from known_hosts", async () => {
    const empty = join(ssh.sshd.dir, "empty_known_hosts");
    writeFileSync(empty, "# nothing\n");
    const error = await transport({ knownHosts: empty })
      .run("true")
      .catch((e: Error) => e);
    expect(error).toBeInstanceOf(TransportConnectError);
    expect((error as Error).message).toContain(
      `Host key for 127.0.0.1:${ssh.sshd.port} is not in ${empty} (the server presented ${ssh.sshd.hostKeyFingerprint})`,
    );
  });

  it("accepts a hashed known_hosts entry", async () => {
    const hashed = join(ssh.sshd.dir, "hashed_known_hosts");
    writeFileSync(hashed, readFileSync(ssh.sshd.knownHostsPath));
    execFileSync("ssh-keygen", ["-H", "-f", hashed], { stdio: "ignore" });
    const t = transport({ knownHosts: hashed });
    expect((await t.run("echo ok")).stdout.toString()).toBe("ok\n");
  });

  it("checks a pinned fingerprint instead of known_hosts", async () => {
    const good = transport({ knownHosts: undefined, hostKey: ssh.sshd.hostKeyFingerprint });
    expect((await good.run("echo ok")).stdout.toString()).toBe("ok\n");
    const wrong = "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    const error = await transport({ knownHosts: undefined, hostKey: wrong })
      .run("true")
      .catch((e: Error) => e);
    expect(error).toBeInstanceOf(TransportConnectError);
    expect((error as Error).message).toContain(
      `Host key for 127.0.0.1:${ssh.sshd.port} does not match ssh.hostKey (expected ${wrong}, got ${ssh.sshd.hostKeyFingerprint})`,
    );
  });

  it("uses ~/.ssh/known_hosts when neither is given", async () => {
    mkdirSync(join(ssh.sshd.dir, ".ssh"), { recursive: true });
    copyFileSync(ssh.sshd.knownHostsPath, join(ssh.sshd.dir, ".ssh", "known_hosts"));
    const t = transport({ knownHosts: undefined });
    expect((await t.run("echo ok")).stdout.toString()).toBe("ok\n");
  });
});

describe("connection failures", () => {
  it("fails fast with TransportConnectError on a closed port", async () => {
    const { createServer } = await import("node:net");
    const port = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, "127.0.0.1", () => {
        const p = (server.address() as { port: number }).port;
        server.close(() => resolve(p));
      });
    });
    const t = transport({ port });
    const error = await t.run("true").catch((e: Error) => e);
    expect(error).toBeInstanceOf(TransportConnectError);
    expect((error as Error).message).toContain(
      `cannot connect to 127.0.0.1:${port}: connection refused`,
    );
  });

  it("gives up within connectTimeout when the server never answers", async () => {
    const { createServer } = await import("node:net");
    // Accepts TCP but never speaks SSH, like a VM whose sshd hangs.
    const server = createServer(() => {}).listen(0, "127.0.0.1");
    await new Promise((r) => server.once("listening", r));
    const port = (server.address() as { port: number }).port;
    const t = transport({ port, connectTimeout: "300ms" });
    const error = await t.run("true").catch((e: Error) => e);
    server.close();
    expect(error).toBeInstanceOf(TransportConnectError);
    expect((error as Error).message).toMatch(
      /no SSH answer from 127\.0\.0\.1:\d+ within 300 ms \(ssh\.connectTimeout\)/,
    );
  });

  it("refuses a key the server does not know", async () => {
    const key = join(ssh.sshd.dir, "stranger_key");
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", key]);
    const error = await transport({ privateKey: key })
      .run("true")
      .catch((e: Error) => e);
    expect(error).toBeInstanceOf(TransportConnectError);
    expect((error as Error).message).toContain(`refused the key ${key}`);
  });
});

describe("reconnect", () => {
  it("reconnects after sshd is killed and restarted on the same port", async () => {
    const own = await startSshd();
    try {
      const t = new SshTransport(own.runConfigSsh(), {
        home: own.dir,
        backoff: { initialMs: 10, maxMs: 20 },
      });
      ssh.closeAfterAll(t);
      expect((await t.run("echo one")).stdout.toString()).toBe("one\n");
      await own.kill();
      await expect(t.run("echo two")).rejects.toBeInstanceOf(TransportConnectError);
      await own.restart();
      await new Promise((r) => setTimeout(r, 30));
      expect((await t.run("echo three")).stdout.toString()).toBe("three\n");
      expect(t.connectCount).toBe(2);
    } finally {
      await own.stop();
    }
  });

  it("ends a follow when the connection drops", async () => {
    const own = await startSshd();
    try {
      const t = new SshTransport(own.runConfigSsh(), { home: own.dir });
      ssh.closeAfterAll(t);
      const file = join(own.dir, "f.log");
      writeFileSync(file, "x");
      let endError: Error | undefined;
      let ended = false;
      await t.follow({
        path: file,
        fromOffset: 0,
        onData: () => {},
        onEnd: (error) => {
          ended = true;
          endError = error;
        },
      });
      await own.kill();
      await waitFor(() => ended);
      expect(endError).toBeInstanceOf(TransportConnectError);
    } finally {
      await own.stop();
    }
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  await waitUntil(condition, { timeoutMs, intervalMs: 10 });
}
