import { afterEach, expect, it } from "vitest";
import { FakeSlack } from "../../harness/fake-slack/fake-slack.ts";
import { frontEnd, OPERATOR, VISITOR } from "./helpers.ts";
import { TestCore } from "./test-core.ts";

const BACKOFF = { initialMs: 100, maxMs: 800 };
/** The smallest wait the back-off may draw before reconnect n (1-based) of a failing run. */
const floorMs = (n: number) => Math.min(BACKOFF.maxMs, BACKOFF.initialMs * 2 ** (n - 1)) / 2;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

it("a link Slack drops right after opening is reopened with growing waits, not in a loop", async () => {
  const fake = await FakeSlack.start();
  const { slack } = frontEnd(
    fake,
    new TestCore({ users: [OPERATOR], groups: [] }),
    {},
    {
      backoff: BACKOFF,
    },
  );
  cleanups.push(() => fake.stop());
  cleanups.push(() => slack.stop());
  await slack.start();

  fake.link.flapping = true;
  fake.link.terminateAll();
  await fake.waitFor(() => fake.connectionsOpened >= 6, 30_000, "five reopened links");
  // Each link lived 20 ms: none was stable, so the waits kept doubling up to the cap.
  const opened = fake.link.openedAt.slice(1, 6);
  const gaps = opened.slice(1).map((at, i) => at - (opened[i] as number));
  gaps.forEach((gap, i) => {
    expect(gap).toBeGreaterThanOrEqual(floorMs(i + 2) - 5);
  });

  fake.link.flapping = false;
  // A link opened before this line may still be cut: wait for one opened after it.
  const flapped = fake.connectionsOpened;
  await fake.waitFor(
    () => fake.connectionsOpened > flapped && slack.connected && fake.openConnections === 1,
    10_000,
    "a link that stays",
  );
  await (await fake.sendSlashCommand({ text: "help", userId: VISITOR })).acked;
  await fake.waitFor(() => fake.messages.length === 1, 5000, "the reply");
}, 60_000);
