/** One `${VAR}` reference whose variable was not set and had no `:-default`. */
export interface UnsetReference {
  variable: string;
}

/** The result of substituting one YAML scalar. */
export interface Substitution {
  value: string;
  /** Variables that were referenced, unset and without a default (replaced by ""). */
  unset: string[];
  /** True when the whole scalar was a single `${VAR}` reference. */
  whole: boolean;
}

// ${NAME} or ${NAME:-default}; `$${` escapes a literal `${`.
const REFERENCE = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/**
 * Replaces `${VAR}` and `${VAR:-default}` in one scalar. Secrets stay out of the YAML file
 * this way; an empty variable counts as unset for `:-`, as in POSIX sh.
 */
export function substituteEnv(text: string, env: NodeJS.ProcessEnv): Substitution {
  const unset: string[] = [];
  let references = 0;
  const value = text.replace(REFERENCE, (_match, name: string | undefined, fallback?: string) => {
    if (name === undefined) return "${";
    references++;
    const current = env[name];
    if (fallback !== undefined) return current === undefined || current === "" ? fallback : current;
    if (current === undefined) {
      unset.push(name);
      return "";
    }
    return current;
  });
  const whole = references === 1 && /^\$\{[^}]*\}$/.test(text);
  return { value, unset, whole };
}

/** True when the text holds a `${…}` reference at all (cheap pre-check). */
export function hasEnvReference(text: string): boolean {
  return text.includes("${");
}
