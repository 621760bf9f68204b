#!/usr/bin/env bash
# Stops the local SLURM cluster that start.sh STATE_DIR brought up: cancels leftover jobs, then
# sends SIGTERM to exactly the recorded daemons (slurmd, slurmctld, munged if we started it),
# checking each PID's command name first, waits for them to exit, and removes the
# /run/slurm/conf link when it is ours. Idempotent.
#
# Usage: stop.sh STATE_DIR
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

dir="$(state_dir "${1:-}")"
if [[ ! -d "$dir" ]]; then
  log "no cluster state in $dir: nothing to stop"
  exit 0
fi
export SLURM_CONF="$dir/slurm.conf"

if [[ -n "$(recorded_pid "$dir" slurmctld)" ]]; then
  jobs="$(timeout 10 squeue -h -o %A | xargs)" || log "squeue failed; no jobs cancelled"
  if [[ -n "${jobs:-}" ]]; then
    log "cancelling leftover jobs: $jobs"
    # shellcheck disable=SC2086
    timeout 10 scancel $jobs || log "scancel failed for: $jobs"
  fi
fi

status=0
for daemon in slurmd slurmctld munged; do
  pid="$(recorded_pid "$dir" "$daemon")"
  if [[ -z "$pid" ]]; then
    rm -f "$dir/$daemon.pid"
    continue
  fi
  log "stopping $daemon (pid $pid)"
  kill -TERM "$pid" || true
  for _ in $(seq 60); do
    [[ -n "$(recorded_pid "$dir" "$daemon")" ]] || break
    sleep 0.5
  done
  if [[ -n "$(recorded_pid "$dir" "$daemon")" ]]; then
    log "ERROR: $daemon (pid $pid) still running 30 s after SIGTERM; sending SIGKILL"
    kill -KILL "$pid" || true
    status=1
  fi
  rm -f "$dir/$daemon.pid"
done
if [[ "$(readlink /run/slurm/conf || true)" == "$dir/"* ]]; then
  rm -f /run/slurm/conf
fi
log "cluster in $dir stopped"
exit "$status"
