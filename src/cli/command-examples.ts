/** Examples shown at the end of each command's `--help`, as kubectl and promtool show theirs. */
export const COMMAND_EXAMPLES: Readonly<Record<string, readonly string[]>> = {
  start: [
    "trainops start --config /etc/trainops/trainops.yaml",
    "TRAINOPS_CONFIG=~/trainops.yaml trainops start",
  ],
  demo: ["trainops demo", "trainops demo --script configs/demo/script.txt"],
  poll: ["trainops poll --once", "trainops poll --once --run exp001 --json"],
  status: ["trainops status", "trainops status --run exp001 --json | jq .runs[0].etaSeconds"],
  digest: ["trainops digest", "trainops digest --run exp001 --since 7d --json"],
  check: ["trainops check", "trainops check --config prod.yaml --json"],
  init: ["trainops init --host 10.0.0.5 --workdir /data/repo --log runs/exp001/train.log"],
  parse: ["trainops parse train.log", "trainops parse train.log --format tqdm --json"],
  console: ["trainops console", 'echo "/train status" | trainops console'],
  audit: ["trainops audit", "trainops audit --json"],
  plan: ["trainops plan", "trainops plan --run exp001 --json"],
  "next-phase": ["trainops next-phase --run exp001", "trainops next-phase --run exp001 --yes"],
  set: ["trainops set workers=4 batch=2", "trainops set workers=6 --run exp001 --dry-run"],
  rollback: ["trainops rollback --run exp001", "trainops rollback --yes"],
  restart: ["trainops restart --run exp001", "trainops restart --run exp001 --yes"],
  stop: ["trainops stop --run exp001", "trainops stop --run exp001 --yes"],
  unlock: ["trainops unlock --run exp001"],
  discord: ["trainops discord register"],
  completion: [
    "trainops completion bash > ~/.local/share/bash-completion/completions/trainops",
    "trainops completion zsh > ~/.zfunc/_trainops   # with fpath+=(~/.zfunc) before compinit",
    "trainops completion fish > ~/.config/fish/completions/trainops.fish",
  ],
};

/** The help text block for a command's examples, or "" when it has none. */
export function examplesHelp(command: string): string {
  const examples = COMMAND_EXAMPLES[command];
  if (!examples?.length) return "";
  return `\nExamples:\n${examples.map((e) => `  $ ${e}`).join("\n")}\n`;
}
