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

# claim_conf_link LINK DIR: make way for DIR's cluster at LINK (/run/slurm/conf, which configless
# slurmd points at its STATE_DIR/spool/conf-cache). No link, or a link into DIR, needs nothing; a
# link left by a cluster of these scripts whose slurmd no longer runs (a killed run that never
# called stop.sh) is removed; a live cluster, or a link these scripts did not make into an
# existing directory, is an error that names its owner.
claim_conf_link() {
  local link="$1" dir="$2" target owner pid
  target="$(readlink "$link" || true)"
  [[ -n "$target" && "$target" != "$dir/"* ]] || return 0
  owner="${target%/spool/conf-cache}"
  if [[ "$owner" == "$target" ]]; then
    [[ ! -e "$target" ]] || die "$link -> $target was not made by a local cluster of these scripts: remove it or stop the SLURM that made it"
    return 0
  fi
  pid="$(recorded_pid "$owner" slurmd)"
  [[ -z "$pid" ]] || die "another local SLURM cluster (slurmd pid $pid) owns $link -> $target: stop it first with $(dirname "${BASH_SOURCE[0]}")/stop.sh $owner"
  log "removing $link -> $target: left by a cluster whose slurmd no longer runs"
  rm -f "$link"
}
