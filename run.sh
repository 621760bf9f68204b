#!/usr/bin/env bash
# Set up the environment (first call only) and run the workflow's default job.
# Extra arguments go to snakemake, e.g. ./run.sh --configfile presets/paper.yaml --cores 16
# Config files given to --configfile are checked for YAML syntax errors first (Snakemake reports
# them without a line number); the Snakefile checks the rest before any job.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
"$root/scripts/setup-env.sh"
cd "$root"
args=("$@")
configfiles=()
in_configfiles=0
for arg in "${args[@]}"; do
  case "$arg" in
    --configfile=* | --configfiles=*) configfiles+=("${arg#*=}"); in_configfiles=0 ;;
    --configfile | --configfiles) in_configfiles=1 ;;
    -*) in_configfiles=0 ;;
    *) if ((in_configfiles)); then configfiles+=("$arg"); fi ;;
  esac
done
if ((${#configfiles[@]})); then
  "$root/.venv/bin/python" -m miro.config check --syntax "${configfiles[@]}"
fi
[[ " ${args[*]-} " == *" --cores "* || " ${args[*]-} " == *" -c"* ]] || args+=(--cores all)
exec "$root/.venv/bin/snakemake" "${args[@]}"
