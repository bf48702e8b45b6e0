import { mkdir, writeFile } from "node:fs/promises";
import { userInfo } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import type { Message } from "../../message/message.ts";
import { renderText } from "../../message/render-text.ts";
import type { BotCore, Invoker, Responder } from "../core/command-request.ts";
import { parseCommandText } from "../core/parse-command-text.ts";

export interface ConsoleSessionOptions {
  core: BotCore & { idle?(): Promise<void> };
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
  runNames: readonly string[];
  /** Where chart PNGs are saved (default ./data/charts). */
  chartDir?: string;
  /** Who types; defaults to the local user. The console counts as an operator. */
  invoker?: Invoker;
  /** Show a prompt (a terminal); false when reading a script from a pipe. */
  interactive?: boolean;
}

/**
 * The terminal front end: reads `/train …` lines (typed, or piped one per line), prints the
 * rendered messages, saves charts as PNG files, and turns buttons into `confirm <id>` /
 * `cancel <id>`. Lines run one after another, so scripted output is in order.
 */
export class ConsoleSession {
  private readonly chartDir: string;
  private readonly invoker: Invoker;
  private queue: Promise<void> = Promise.resolve();
  private imageCount = 0;
  /** Id of the newest Confirm button shown, for a bare `confirm` or `cancel`. */
  private newestConfirmation: string | null = null;
  /** Ids of the newest numbered choices shown (an alert's or a verdict's buttons). */
  private newestChoices: string[] = [];

  constructor(private readonly options: ConsoleSessionOptions) {
    this.chartDir = resolve(options.chartDir ?? "./data/charts");
    const user = safeUserName();
    this.invoker = options.invoker ?? {
      platform: "console",
      userId: user,
      userName: user,
      roles: [],
      channelId: "console",
    };
  }

  /** Prints a message (a reply, a follow-up or an alert), saving its images first. */
  async show(message: Message): Promise<void> {
    for (const button of message.buttons ?? []) {
      const [kind, id] = button.id.split(":");
      if (kind === "confirm" && id) this.newestConfirmation = id;
    }
    if (message.buttons?.some((b) => !/^(confirm|cancel):/.test(b.id)))
      this.newestChoices = message.buttons.map((b) => b.id);
    const imagePaths: Record<string, string> = {};
    for (const image of message.images ?? []) {
      await mkdir(this.chartDir, { recursive: true });
      const path = join(
        this.chartDir,
        `${String(++this.imageCount).padStart(3, "0")}-${Date.now()}-${image.name}`,
      );
      await writeFile(path, image.png);
      imagePaths[image.name] = path;
    }
    this.options.output.write(`${renderText(message, { imagePaths })}\n`);
  }

  /** Presses a button by its id, as typing its choice number does; shows the answer. */
  async pressButton(buttonId: string): Promise<void> {
    const responder: Responder = { followUp: (message) => this.show(message) };
    try {
      await this.show(
        await this.options.core.press({ buttonId, invoker: this.invoker }, responder),
      );
    } catch (error) {
      this.options.output.write(`error: ${(error as Error).message}\n`);
    }
  }

  /** Handles one typed line. */
  async handleLine(raw: string): Promise<void> {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const responder: Responder = { followUp: (message) => this.show(message) };
    const choice = /^\d{1,2}$/.exec(line);
    if (choice) {
      const buttonId = this.newestChoices[Number(line) - 1];
      if (!buttonId) {
        this.options.output.write(
          `error: no choice ${line}${this.newestChoices.length ? ` (1-${this.newestChoices.length})` : "; nothing offers choices yet"}\n`,
        );
        return;
      }
      await this.pressButton(buttonId);
      return;
    }
    // `confirm` / `cancel` alone answer the newest confirmation shown in this session.
    const bare = /^(confirm|cancel)$/i.exec(line);
    const press = bare
      ? this.newestConfirmation
        ? [line, bare[1], this.newestConfirmation]
        : null
      : /^(confirm|cancel)\s+(\S+)$/i.exec(line);
    if (bare && !press) {
      this.options.output.write(
        "error: nothing to confirm; run a command that changes the run first\n",
      );
      return;
    }
    try {
      if (press) {
        const buttonId = `${(press[1] as string).toLowerCase()}:${press[2]}`;
        await this.show(
          await this.options.core.press({ buttonId, invoker: this.invoker }, responder),
        );
        return;
      }
      const parsed = parseCommandText(line, this.options.runNames);
      const request = { subcommand: parsed.subcommand, args: parsed.args, invoker: this.invoker };
      await this.show(await this.options.core.execute(request, responder));
    } catch (error) {
      this.options.output.write(`error: ${(error as Error).message}\n`);
    }
  }

  /** Reads lines until `exit` or the end of input, then waits for pending work. */
  run(): Promise<void> {
    const rl = createInterface({
      input: this.options.input,
      ...(this.options.interactive ? { output: this.options.output, prompt: "train> " } : {}),
      terminal: Boolean(this.options.interactive),
    });
    if (this.options.interactive) {
      this.options.output.write(
        "Type /train help, or exit. Buttons become 'confirm <id>' / 'cancel <id>' (or just 'confirm').\n",
      );
      rl.prompt();
    }
    return new Promise((done) => {
      rl.on("line", (line) => {
        if (/^(exit|quit)$/i.test(line.trim())) {
          rl.close();
          return;
        }
        this.queue = this.queue
          .then(() => this.handleLine(line))
          .then(() => {
            if (this.options.interactive) rl.prompt();
          });
      });
      rl.on("close", () => {
        this.queue
          .then(() => this.options.core.idle?.())
          .then(
            () => done(),
            () => done(),
          );
      });
    });
  }
}

function safeUserName(): string {
  try {
    return userInfo().username || "console";
  } catch {
    return "console";
  }
}
