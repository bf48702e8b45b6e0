// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these lines are sh holding ${VAR} expansions.
import { createHash } from "node:crypto";
import { shellQuote } from "../../transport/shell-quote.ts";

/** What identifies a run's own processes on a shared VM. */
export interface ProcessSetSpec {
  /** The run's name (names the file where a start records its pid). */
  run: string;
  /** The run's working directory: a trainer of ours runs there (or below). */
  workdir: string;
  /** Matches the training command line (`process` in the run config). */
  process: string;
  /** The tmux session the run is started in, when configured. */
  tmuxSession?: string | undefined;
  /** The systemd unit the run is started as, when configured. */
  systemdUnit?: string | undefined;
  /** The SSH user's uid when known from an earlier poll (saves asking `id` each time). */
  uid?: number | null | undefined;
  /**
   * Part of a host probe (see hostProcessesScript): `$u` is set and the user's processes were
   * listed once for every run of the host (cwd, stat, command line), so a run not bounded by a
   * systemd unit prints only its anchors and its canonical workdir (`wdr`).
   */
  shared?: boolean | undefined;
}

/** The SSH user's processes as `/proc/PID <cwd>` lines, by one `find` over the cwd links. */
const OWN_PROCESSES =
  "$(find /proc/[0-9]*/cwd -maxdepth 0 -user \"$u\" -printf '%h %l\\n' 2>/dev/null)";

/**
 * POSIX sh that a host probe runs once before its runs' sections: sets `$u` and prints the
 * user's processes after the marker `$M` as sections `cwds` (`/proc/PID <cwd>` lines), `ps`
 * (their stat lines) and `args` (their command lines). Every run of the host then picks its own
 * set from these (see {@link processSetScript}), so the cost is one pass, not one per run.
 */
export function hostProcessesScript(uid: number | null | undefined): string {
  return [
    uid !== undefined && uid !== null && Number.isInteger(uid) && uid >= 0
      ? `u=${uid}`
      : UID_SNIPPET,
    `own=${OWN_PROCESSES}`,
    'printf \'%s cwds\\n%s\\n\' "$M" "$own"',
    'sf=""; cf=""',
    "set -f; o=$IFS; IFS='",
    "'",
    'for l in $own; do d=${l%% *}; sf="$sf $d/stat"; cf="$cf $d/cmdline"; done',
    "IFS=$o; set +f",
    "printf '%s ps\\n' \"$M\"",
    '[ -n "$sf" ] && cat $sf 2>/dev/null',
    "printf '%s args\\n' \"$M\"",
    '[ -n "$cf" ] && grep -asH "" $cf 2>/dev/null',
    "printf '\\n'",
  ].join("\n");
}

/**
 * Shell expression (double-quote safe) of the file in which a start records the pid and start
 * time of the process it launched. `$u` is the SSH user's uid (see {@link UID_SNIPPET}) and the
 * workdir's hash tells apart runs of the same name in other directories, so two users' or two
 * configs' runs never share it.
 */
export function startPidFile(run: string, workdir: string): string {
  const where = createHash("sha256").update(workdir).digest("hex").slice(0, 12);
  return `/tmp/trainops-$u-${run}-${where}.pid`;
}

/** Sets `$u` to the SSH user's uid: bash has it for free, plain sh asks `id` once. */
export const UID_SNIPPET = 'u=${EUID:-}; [ -n "$u" ] || u=$(id -u)';

/**
 * POSIX sh that prints a run's processes as probe sections after the marker `$M`:
 * `self` (the script's own pid, to leave it out, and the uid), `scope` (how the set is bounded),
 * `wd` (the user's processes working in the workdir), `ps` (raw `/proc/PID/stat` lines) and
 * `args` (`/proc/PID/cmdline:<args>` lines).
 *
 * The set is, in order of preference: the configured systemd unit's cgroup; the configured
 * tmux session's panes; the process tree the last start launched (pid file, checked against
 * the process's start time so a reused pid is not taken for it); else the SSH user's own
 * processes, with command lines read only for those whose working directory is the workdir.
 * Ownership is tested on the `/proc/PID/cwd` link itself by one `find`, so no file of another
 * user's process is read, and the cost of the rest grows with the user's processes only.
 */
export function processSetScript(spec: ProcessSetSpec): string {
  const pidFile = startPidFile(spec.run, spec.workdir);
  const uid = spec.uid;
  const shared = spec.shared === true;
  const lines = [
    shared
      ? ":"
      : uid !== undefined && uid !== null && Number.isInteger(uid) && uid >= 0
        ? `u=${uid}`
        : UID_SNIPPET,
    `wd=${shellQuote(spec.workdir)}; wdr=$wd; here=$PWD`,
    // The canonical path, as /proc/PID/cwd shows it (symlinks resolved); cd is a builtin.
    'if cd -P -- "$wd" 2>/dev/null; then wdr=$PWD; fi; cd -- "$here" 2>/dev/null',
    'scope=workdir; pids=""',
  ];
  if (spec.systemdUnit) {
    const unit = shellQuote(spec.systemdUnit);
    lines.push(
      `cg=$(systemctl show -p ControlGroup --value -- ${unit} 2>/dev/null)`,
      `[ -n "$cg" ] || cg=$(systemctl --user show -p ControlGroup --value -- ${unit} 2>/dev/null)`,
      'scope="systemd"',
      'for f in "/sys/fs/cgroup$cg/cgroup.procs" "/sys/fs/cgroup/systemd$cg/cgroup.procs"; do',
      '  if [ -n "$cg" ] && [ -r "$f" ]; then while read -r p; do pids="$pids $p"; done < "$f"; break; fi',
      "done",
    );
  } else if (spec.tmuxSession) {
    lines.push(
      `pids=$(tmux list-panes -s -t ${shellQuote(`=${spec.tmuxSession}`)} -F '#{pane_pid}' 2>/dev/null)`,
      "pids=$(echo $pids)",
      'scope="tmux"',
    );
  } else {
    lines.push(
      `pf="${pidFile}"`,
      'if [ -r "$pf" ] && read -r lp ls < "$pf" && [ "$lp" -gt 1 ] 2>/dev/null &&',
      '  read -r st 2>/dev/null < "/proc/$lp/stat"; then',
      "  set -- ${st##*) }",
      // Field 22 of /proc/PID/stat (the 20th after comm) is the start time in clock ticks; a
      // zombie (under an init that does not reap) is a process that has ended.
      '  [ "${20:-}" = "$ls" ] && [ "$1" != Z ] && [ "$1" != X ] && scope=started && pids=$lp',
      "fi",
    );
  }
  lines.push('printf \'%s self %s %s\\n%s scope %s %s\\n\' "$M" "$$" "$u" "$M" "$scope" "$pids"');
  if (shared && !spec.systemdUnit) {
    // The host printed every process's cwd, stat and command line once; the run's processes
    // are picked from them by its canonical workdir.
    lines.push('printf \'%s wdr %s\\n\' "$M" "$wdr"');
    return lines.join("\n");
  }
  lines.push(
    'sf=""; cf=""; w=""',
    'if [ "$scope" = systemd ]; then',
    // The script's own line stands for a listing that worked when the unit has no process.
    '  sf="/proc/$$/stat"',
    '  for p in $pids; do sf="$sf /proc/$p/stat"; cf="$cf /proc/$p/cmdline"; done',
    "else",
    `  own=${OWN_PROCESSES}`,
    "  set -f; o=$IFS; IFS='",
    "'",
    "  for l in $own; do",
    '    d=${l%% *}; c=${l#* }; sf="$sf $d/stat"; inwd=""',
    '    case $c in "$wdr"|"$wdr"/*) inwd=1; w="$w ${d#/proc/}";; esac',
    '    if [ "$scope" != workdir ] || [ -n "$inwd" ]; then cf="$cf $d/cmdline"; fi',
    "  done",
    "  IFS=$o; set +f",
    "fi",
    'printf \'%s wd%s\\n\' "$M" "$w"',
    "printf '%s ps\\n' \"$M\"",
    '[ -n "$sf" ] && cat $sf 2>/dev/null',
    "printf '%s args\\n' \"$M\"",
    '[ -n "$cf" ] && grep -asH "" $cf 2>/dev/null',
    "printf '\\n'",
  );
  return lines.join("\n");
}
