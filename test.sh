#!/usr/bin/env bash
# Set up the environment (first call only), lint, and run the whole test suite.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
"$root/scripts/setup-env.sh"
cd "$root"
export PATH="$root/.venv/bin:$PATH"
ruff check .
ruff format --check .
snakefmt --check Snakefile workflow/Snakefile workflow/rules
snakemake --lint --cores 1 >/dev/null
exec python -m pytest "$@"
