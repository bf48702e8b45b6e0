import type {
  BotCore,
  ButtonPress,
  CommandRequest,
  Responder,
  SubcommandSpec,
} from "../../../src/bot/core/command-request.ts";
import type { Message } from "../../../src/message/message.ts";

/** A 4×4 red PNG: a real image for attachment tests. */
export const TINY_PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAQAAAAECAIAAAAmkwkpAAAAEElEQVR4nGP4z8AARwzEcQCukw/x0F8jngAAAABJRU5ErkJggg==",
  "base64",
);

export const OPERATOR_ROLE = "567890123456789012";
export const RUNS = ["exp001", "exp002", "ablation-a"];

const run = {
  name: "run",
  description: "Run name",
  type: "string",
  required: false,
  autocomplete: true,
} as const;

const SPECS: SubcommandSpec[] = [
  { name: "status", description: "Progress, speed, memory", options: [run], mutating: false },
  {
    name: "set",
    description: "Change workers or batch size",
    options: [
      run,
      {
        name: "workers",
        description: "Workers",
        type: "integer",
        required: false,
        min: 1,
        max: 64,
      },
      {
        name: "batch",
        description: "Batch size",
        type: "integer",
        required: false,
        min: 1,
        max: 1024,
      },
    ],
    mutating: true,
  },
  { name: "restart", description: "Restart training", options: [run], mutating: true },
  {
    name: "logs",
    description: "Tail of the log",
    options: [
      run,
      { name: "lines", description: "Lines", type: "integer", required: false, min: 1, max: 5000 },
    ],
    mutating: false,
  },
  {
    name: "mute",
    description: "Silence alerts",
    options: [
      run,
      { name: "rule", description: "Rule", type: "string", required: false },
      { name: "duration", description: "How long", type: "string", required: true },
      { name: "reason", description: "Why", type: "string", required: true },
    ],
    mutating: true,
    confirms: false,
  },
  {
    name: "chart",
    description: "A chart",
    options: [
      run,
      {
        name: "metric",
        description: "What to draw",
        type: "string",
        required: false,
        choices: ["step_time", "vram", "host_ram", "gpu_util"],
      },
    ],
    mutating: false,
  },
  { name: "help", description: "What each command does", options: [], mutating: false },
];

interface Pending {
  requester: string;
  workers: number;
  applied: boolean;
}

/**
 * A BotCore with fixed but meaningful answers: the real command layer's behaviour in miniature
 * (operators only for mutating commands, confirmation that only the requester can press, a slow
 * restart that reports progress), so the Discord tests exercise every path of the adapter.
 */
export class TestCore implements BotCore {
  readonly subcommands = SPECS;
  readonly requests: CommandRequest[] = [];
  readonly presses: ButtonPress[] = [];
  private readonly pending = new Map<string, Pending>();
  private next = 1;

  constructor(private readonly slowMs = 600) {}

  async execute(request: CommandRequest, responder: Responder): Promise<Message> {
    this.requests.push(request);
    const spec = SPECS.find((s) => s.name === request.subcommand);
    if (!spec)
      return {
        title: `Unknown command ${request.subcommand}`,
        severity: "warning",
        ephemeral: true,
      };
    const isOperator = request.invoker.roles.includes(OPERATOR_ROLE);
    if (spec.mutating && !isOperator) {
      return {
        title: "Not allowed",
        severity: "warning",
        lines: [
          `/train ${spec.name} changes the run: it needs the operator role <@&${OPERATOR_ROLE}>.`,
        ],
        ephemeral: true,
      };
    }
    const runName = request.args.run ?? "exp001";
    if (runName === "explode") throw new Error("store is locked");
    switch (spec.name) {
      case "status":
        return {
          title: `${runName}: training, step 549/4000`,
          severity: "info",
          lines: ["183 steps/h, step time 18.1 s"],
          progress: [
            { label: "Epoch 1", value: 549, max: 4000, caption: "549/4000 (13.7%)" },
            { label: "Training", value: 549, max: 128_000 },
          ],
          fields: [
            { name: "VRAM", value: "77.4/80 GiB", inline: true },
            { name: "GPU util", value: "0 %", inline: true },
          ],
          images: [{ name: `${runName}-status.png`, png: TINY_PNG, alt: "Step time and VRAM" }],
          footer: `run ${runName}`,
        };
      case "set": {
        const id = String(this.next++);
        const workers = Number(request.args.workers ?? "2");
        this.pending.set(id, { requester: request.invoker.userId, workers, applied: false });
        return {
          title: `Set workers on ${runName}?`,
          severity: "warning",
          fields: [{ name: "workers", value: `1 → ${workers}` }],
          buttons: [
            { id: `confirm:${id}`, label: "Confirm", style: "danger" },
            { id: `cancel:${id}`, label: "Cancel", style: "secondary" },
          ],
          footer: `requested by ${request.invoker.userName}`,
        };
      }
      case "restart":
        await new Promise((resolve) => setTimeout(resolve, this.slowMs));
        if (runName === "missing") {
          return { title: "No run named missing", severity: "warning", ephemeral: true };
        }
        void responder
          .followUp({ title: "Training resumed at step 550", severity: "success" })
          .catch(() => {});
        return {
          title: `Restarted ${runName}`,
          severity: "success",
          lines: ["Waiting for new steps."],
        };
      case "logs": {
        const count = Number(request.args.lines ?? "40");
        const lines = Array.from(
          { length: count },
          (_, i) => `step ${i + 1} loss=0.${i} \`\`\` done`,
        );
        return {
          title: `Last ${count} lines of ${runName}`,
          severity: "info",
          code: lines.join("\n"),
        };
      }
      case "mute":
        return {
          title: `Muted ${request.args.rule ?? "all rules"} for ${request.args.duration}`,
          severity: "info",
          lines: [`Reason: ${request.args.reason}`],
        };
      case "chart":
        return {
          title: `Chart ${request.args.metric ?? "all"}`,
          severity: "info",
          images: [
            { name: "a.png", png: TINY_PNG, alt: "first" },
            { name: "b chart.png", png: TINY_PNG, alt: "second" },
          ],
        };
      default:
        return {
          title: "trainops /train commands",
          severity: "info",
          table: { columns: ["command", "what"], rows: SPECS.map((s) => [s.name, s.description]) },
        };
    }
  }

  async press(press: ButtonPress, responder: Responder): Promise<Message> {
    this.presses.push(press);
    const [action, id] = press.buttonId.split(":");
    const pending = this.pending.get(id ?? "");
    if (!pending)
      return { title: "This confirmation expired", severity: "warning", ephemeral: true };
    if (pending.requester !== press.invoker.userId) {
      return {
        title: "Not yours to confirm",
        severity: "warning",
        lines: [`Only <@${pending.requester}> can confirm or cancel this.`],
        ephemeral: true,
      };
    }
    if (pending.applied) return { title: "Already applied", severity: "info", ephemeral: true };
    pending.applied = true;
    // Big changes take a while to apply, like a real restart: the adapter must defer.
    if (pending.workers >= 32) await new Promise((resolve) => setTimeout(resolve, this.slowMs));
    if (action === "cancel") return { title: "Cancelled; nothing changed", severity: "info" };
    void responder
      .followUp({ title: `Restarted with ${pending.workers} workers`, severity: "success" })
      .catch(() => {});
    return { title: `Applied: workers 1 → ${pending.workers}`, severity: "success" };
  }

  autocomplete(option: string, typed: string): string[] {
    if (option !== "run") return [];
    return RUNS.filter((r) => r.startsWith(typed));
  }
}
