# Shared helpers for the local single-node SLURM cluster scripts (sourced, not executed).
# Each daemon we start records its PID in STATE_DIR/<daemon>.pid; nothing else is ever signalled.

log() { echo "[slurm-local] $*" >&2; }
die() {
  echo "[slurm-local] ERROR: $*" >&2
  exit 1
}

# state_dir DIR: absolute path of the state directory given on the command line.
state_dir() {
  [[ -n "${1:-}" ]] || die "usage: $(basename "$0") STATE_DIR"
  realpath -m "$1"
}

# recorded_pid DIR NAME: prints the PID in DIR/NAME.pid when that process is alive (not a
# zombie) and its command name is NAME; a stale file whose PID was reused prints nothing.
recorded_pid() {
  local file="$1/$2.pid" pid
  [[ -f "$file" ]] || return 0
  pid="$(cat "$file")"
  [[ "$pid" =~ ^[0-9]+$ ]] || die "$file does not hold a PID"
  if [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == "$2" ]] \
    && [[ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != Z ]]; then
    echo "$pid"
  fi
}
