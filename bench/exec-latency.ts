// Exec latency on an open SSH connection against a real loopback sshd:
//   npx tsx bench/exec-latency.ts [samples]
// Compares TCP_NODELAY on/off, and the long-lived remote shell against a fresh exec per
// script when the login user's ~/.bashrc costs ~80 ms (as conda or pyenv init do).
import { SshTransport } from "../src/transport/ssh-transport.ts";
import { type SshdHarness, startSshd } from "../test/harness/sshd.ts";

const samples = Number(process.argv[2] ?? 50);

async function medianMs(
  sshd: SshdHarness,
  options: { noDelay: boolean; persistentShell: boolean },
): Promise<number> {
  const transport = new SshTransport(sshd.runConfigSsh(), { home: sshd.dir, ...options });
  try {
    // Connect, start the shell and warm the JIT outside the measurement.
    for (let i = 0; i < 10; i++) await transport.run("true");
    const times: number[] = [];
    for (let i = 0; i < samples; i++) {
      const start = process.hrtime.bigint();
      await transport.run("echo ok");
      times.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
    times.sort((a, b) => a - b);
    return times[Math.floor(times.length / 2)] as number;
  } finally {
    await transport.close();
  }
}

const rows: Array<[string, number]> = [];
const shellName = (persistentShell: boolean) =>
  persistentShell ? "long-lived sh" : "fresh exec   ";
const nagle = (noDelay: boolean) => (noDelay ? "TCP_NODELAY" : "Nagle      ");

const plain = await startSshd({ loginShellDelayMs: 0 });
try {
  for (const persistentShell of [true, false]) {
    for (const noDelay of [true, false]) {
      const label = `${shellName(persistentShell)}, ${nagle(noDelay)}, ~/.bashrc: empty`;
      rows.push([label, await medianMs(plain, { noDelay, persistentShell })]);
    }
  }
} finally {
  await plain.stop();
}
const slow = await startSshd({ loginShellDelayMs: 80 });
try {
  for (const persistentShell of [true, false]) {
    const label = `${shellName(persistentShell)}, TCP_NODELAY, ~/.bashrc: sleep 0.08`;
    rows.push([label, await medianMs(slow, { noDelay: true, persistentShell })]);
  }
} finally {
  await slow.stop();
}
// The current user's own rc file (on a dev box or VM image that may be pyenv or conda init).
const own = await startSshd();
try {
  for (const persistentShell of [true, false]) {
    const label = `${shellName(persistentShell)}, TCP_NODELAY, ~/.bashrc: ${own.user}'s own`;
    rows.push([label, await medianMs(own, { noDelay: true, persistentShell })]);
  }
} finally {
  await own.stop();
}
process.stdout.write(`median of ${samples} scripts on an open connection (loopback sshd)\n`);
for (const [label, ms] of rows)
  process.stdout.write(`${label.padEnd(52)} ${ms.toFixed(2).padStart(8)} ms\n`);
