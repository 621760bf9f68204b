#!/usr/bin/env bash
# Creates (or refreshes) the project's virtual environment in .venv from the pinned
# requirements.txt + constraints.txt and installs workflow/lib as the `miro` package.
# Idempotent: does nothing when the pins have not changed since the last install.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${MIRO_VENV:-$root/.venv}"
python="${PYTHON:-python3}"
stamp="$venv/.miro-installed"
want="$(cat "$root/requirements.txt" "$root/constraints.txt" "$root/pyproject.toml" | sha256sum | cut -d' ' -f1)"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  exit 0
fi
"$python" -c 'import sys; assert sys.version_info >= (3, 11), "miro-workflow needs Python >= 3.11"'
[[ -x "$venv/bin/python" ]] || "$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet -r "$root/requirements.txt" -c "$root/constraints.txt"
"$venv/bin/python" -m pip install --quiet --no-deps --no-build-isolation -e "$root"
echo "$want" > "$stamp"
echo "miro-workflow: environment ready in $venv" >&2
