/** The config file a command reads without `--config`: `$TRAINOPS_CONFIG`, else ./trainops.yaml. */
export function defaultConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.TRAINOPS_CONFIG?.trim();
  return fromEnv ? fromEnv : "trainops.yaml";
}

/** Help text of the `--config` option (names the variable, as kubectl does KUBECONFIG). */
export const CONFIG_OPTION_HELP =
  "configuration file (default: $TRAINOPS_CONFIG, else trainops.yaml)";
