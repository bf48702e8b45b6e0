import type { webApi } from "@slack/bolt";
import type { Clock } from "../../core/clock.ts";

/** How long a group's member list is trusted before asking Slack again. */
export const USER_GROUP_CACHE_MS = 60_000;

interface Entry {
  members: ReadonlySet<string>;
  fetchedAt: number;
}

/**
 * Which of the operator user groups a person belongs to. Slack does not send group membership
 * with a slash command or a button press, so the members of each configured group are looked up
 * with `usergroups.users.list` and cached briefly; when Slack cannot answer, the last known list
 * is used, and with none the person simply has no group (the core then refuses, privately).
 */
export class UserGroupDirectory {
  private readonly cache = new Map<string, Entry>();
  private readonly inFlight = new Map<string, Promise<Entry | undefined>>();

  constructor(
    private readonly client: webApi.WebClient,
    private readonly groups: readonly string[],
    private readonly clock: Clock,
    private readonly onError: (message: string) => void = () => {},
    private readonly ttlMs = USER_GROUP_CACHE_MS,
  ) {}

  /** The configured group ids `userId` is a member of. */
  async groupsOf(userId: string): Promise<string[]> {
    const entries = await Promise.all(
      this.groups.map(async (group) => [group, await this.members(group)] as const),
    );
    return entries.filter(([, entry]) => entry?.members.has(userId)).map(([group]) => group);
  }

  private async members(group: string): Promise<Entry | undefined> {
    const cached = this.cache.get(group);
    if (cached && this.clock.now() - cached.fetchedAt < this.ttlMs) return cached;
    const running = this.inFlight.get(group);
    if (running) return running;
    const lookup = this.fetch(group, cached).finally(() => this.inFlight.delete(group));
    this.inFlight.set(group, lookup);
    return lookup;
  }

  private async fetch(group: string, stale: Entry | undefined): Promise<Entry | undefined> {
    try {
      const result = await this.client.usergroups.users.list({ usergroup: group });
      const entry = { members: new Set(result.users ?? []), fetchedAt: this.clock.now() };
      this.cache.set(group, entry);
      return entry;
    } catch (error) {
      const code = (error as { data?: { error?: string } }).data?.error ?? (error as Error).message;
      this.onError(
        `could not read members of user group ${group} (${code}); ${stale ? "using the last known list" : "treating nobody as a member"}${code === "missing_scope" ? "; add the usergroups:read scope (see configs/slack-app-manifest.yaml)" : ""}`,
      );
      return stale;
    }
  }
}
