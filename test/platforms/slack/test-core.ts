import type {
  BotCore,
  ButtonPress,
  CommandRequest,
  Responder,
} from "../../../src/bot/core/command-request.ts";
import { SUBCOMMAND_SPECS } from "../../../src/bot/core/subcommand-specs.ts";
import type { Message } from "../../../src/message/message.ts";

/** A 1×1 PNG: enough for the upload flow to carry real bytes. */
export const TINY_PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==",
  "base64",
);

interface Pending {
  id: string;
  requester: string;
  summary: string;
  state: "open" | "applied" | "cancelled";
}

/**
 * A small BotCore for the Slack tests: real enough to exercise authorisation (operators by user
 * id or user-group id), Confirm / Cancel owned by the requester, follow-ups and charts.
 */
export class TestCore implements BotCore {
  readonly subcommands = SUBCOMMAND_SPECS;
  readonly requests: CommandRequest[] = [];
  readonly presses: ButtonPress[] = [];
  /** When set, execute() waits for it before answering (a slow command). */
  gate: Promise<void> | undefined;
  /** What `/train logs` shows. */
  logText = "step 1\nstep 2";
  /** Set when execute() was entered. */
  executing = 0;
  private readonly pending = new Map<string, Pending>();
  private counter = 0;

  constructor(
    private readonly operators: { users: string[]; groups: string[] },
    readonly runs: string[] = ["exp001", "exp002"],
  ) {}

  autocomplete(option: string, typed: string): string[] {
    return option === "run" ? this.runs.filter((run) => run.startsWith(typed)) : [];
  }

  private isOperator(request: { invoker: { userId: string; roles: string[] } }): boolean {
    return (
      this.operators.users.includes(request.invoker.userId) ||
      request.invoker.roles.some((role) => this.operators.groups.includes(role))
    );
  }

  async execute(request: CommandRequest, _responder: Responder): Promise<Message> {
    this.executing += 1;
    this.requests.push(request);
    if (this.gate) await this.gate;
    const spec = SUBCOMMAND_SPECS.find((s) => s.name === request.subcommand);
    if (!spec) {
      return {
        title: `Unknown command '${request.subcommand}'`,
        severity: "warning",
        lines: ["Try /train help."],
        ephemeral: true,
      };
    }
    if (spec.mutating && !this.isOperator(request)) {
      return {
        title: "Not allowed",
        severity: "warning",
        lines: [`/train ${spec.name} needs an operator (slack.operators users or userGroups).`],
        ephemeral: true,
      };
    }
    const run = request.args.run ?? this.runs[0];
    switch (request.subcommand) {
      case "status":
        return {
          title: `${run}: step 549 of 128000`,
          severity: "info",
          lines: ["Training is stable with 1 worker."],
          progress: [{ label: "Epoch 1", value: 549, max: 4000 }],
          fields: [
            { name: "Step time", value: "18.1 s", inline: true },
            { name: "VRAM", value: "77.4/80 GiB", inline: true },
          ],
          table: { columns: ["phase", "workers"], rows: [["1", "2"]] },
          images: [{ name: `${run}-status.png`, png: TINY_PNG, alt: "step time chart" }],
          footer: `run ${run}`,
        };
      case "logs":
        return { title: `${run}: last lines`, severity: "info", code: this.logText };
      case "set":
      case "next-phase": {
        const id = `c${++this.counter}`;
        const summary = `${request.subcommand} ${JSON.stringify(request.args)}`;
        this.pending.set(id, { id, requester: request.invoker.userId, summary, state: "open" });
        return {
          title: `Confirm: ${summary}`,
          severity: "warning",
          lines: ["workers 1 → 4"],
          buttons: [
            { id: `confirm:${id}`, label: "Confirm", style: "primary" },
            { id: `cancel:${id}`, label: "Cancel", style: "secondary" },
          ],
        };
      }
      default:
        return { title: `${request.subcommand} done`, severity: "success" };
    }
  }

  async press(press: ButtonPress, responder: Responder): Promise<Message> {
    this.presses.push(press);
    const [verb, id] = press.buttonId.split(":");
    const pending = this.pending.get(id ?? "");
    if (!pending)
      return { title: "This confirmation expired", severity: "warning", ephemeral: true };
    if (pending.requester !== press.invoker.userId) {
      return {
        title: "Not your confirmation",
        severity: "warning",
        lines: [`Only <@${pending.requester}> can press these buttons.`],
        mentions: { users: [pending.requester], roles: [] },
        ephemeral: true,
      };
    }
    if (pending.state !== "open") {
      return { title: `Already ${pending.state}`, severity: "info", ephemeral: true };
    }
    if (verb === "cancel") {
      pending.state = "cancelled";
      return { title: "Cancelled", severity: "info" };
    }
    pending.state = "applied";
    // Progress after the first answer, as a restart reports it.
    setTimeout(
      () =>
        void responder.followUp({ title: "Restarted: step lines are back", severity: "success" }),
      5,
    );
    return { title: `Applying ${pending.summary}`, severity: "info" };
  }
}
