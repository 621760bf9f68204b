#!/usr/bin/env bash
# Installs SLURM (slurm-wlm) and munge from the distribution's packages when they are missing.
# Debian/Ubuntu only, needs root. Exits 0 at once when everything is already installed.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

tools=(munged munge slurmctld slurmd sbatch squeue sinfo srun scancel)
missing() {
  local t
  for t in "${tools[@]}"; do
    command -v "$t" >/dev/null || [[ -x "/usr/sbin/$t" ]] || echo "$t"
  done
}
if [[ -z "$(missing)" ]]; then
  log "slurm-wlm and munge already installed"
  exit 0
fi

[[ "$(id -u)" == 0 ]] || die "installing slurm-wlm/munge needs root (missing: $(missing | xargs))"
command -v apt-get >/dev/null || die "apt-get not found: install SLURM and munge by hand"
export DEBIAN_FRONTEND=noninteractive
# Refresh the package lists only when they do not know the packages yet.
if ! apt-cache show slurm-wlm munge >/dev/null 2>&1; then
  log "apt-get update"
  apt-get update -q
fi
log "apt-get install slurm-wlm munge"
apt-get install -y -q --no-install-recommends slurm-wlm munge
[[ -z "$(missing)" ]] || die "still missing after install: $(missing | xargs)"
log "installed slurm-wlm $(dpkg-query -W -f '${Version}' slurm-wlm)"
