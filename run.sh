#!/usr/bin/env bash
# Set up the environment (first call only) and run the workflow's default job.
# Extra arguments go to snakemake, e.g. ./run.sh --configfile config/paper.yaml --cores 16
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
"$root/scripts/setup-env.sh"
cd "$root"
args=("$@")
[[ " ${args[*]-} " == *" --cores "* || " ${args[*]-} " == *" -c"* ]] || args+=(--cores all)
exec "$root/.venv/bin/snakemake" "${args[@]}"
