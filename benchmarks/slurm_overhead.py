"""Timings of the local SLURM test cluster (issue 6): how long scripts/slurm/start.sh takes, one
bare `sbatch --wait` round trip, and Snakemake's per-job overhead through profiles/slurm-test
against the same chain of trivial jobs run locally. Needs root; run as
    .venv/bin/python benchmarks/slurm_overhead.py [N_JOBS]
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SCRIPTS = REPO / "scripts" / "slurm"
SNAKEMAKE = Path(sys.executable).with_name("snakemake")


def chain_snakefile(n_jobs: int) -> str:
    """N trivial rules, each needing the previous one's output."""
    rules = [f'localrules: all\n\nrule all:\n    input: "step{n_jobs - 1}.txt"\n']
    for i in range(n_jobs):
        needs = f'    input: "step{i - 1}.txt"\n' if i else ""
        rules.append(
            f'rule step{i}:\n{needs}    output: "step{i}.txt"\n    shell: "touch {{output}}"\n'
        )
    return "\n".join(rules)


def timed(cmd: list[str], **kwargs) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, **kwargs)
    return time.perf_counter() - start


def main(n_jobs: int = 4) -> None:
    with tempfile.TemporaryDirectory(prefix="slurm-bench-") as tmp:
        state, on_slurm, local = (Path(tmp) / d for d in ("state", "slurm", "local"))
        for workdir in (on_slurm, local):
            workdir.mkdir()
            (workdir / "Snakefile").write_text(chain_snakefile(n_jobs))
        env = {**os.environ, "SLURM_CONF": str(state / "slurm.conf")}
        subprocess.run(["bash", str(SCRIPTS / "install.sh")], check=True)
        try:
            start = timed(["bash", str(SCRIPTS / "start.sh"), str(state)])
            sbatch = timed(["sbatch", "--wait", "-o", "/dev/null", "--wrap", "true"], env=env)
            run = ["timeout", "-k", "10", "600", str(SNAKEMAKE)]
            profile = ["--workflow-profile", str(REPO / "profiles" / "slurm-test")]
            t_slurm = timed([*run, *profile], cwd=on_slurm, env=env)
            t_local = timed([*run, "--workflow-profile", "none", "--cores", "1"], cwd=local)
        finally:
            subprocess.run(["bash", str(SCRIPTS / "stop.sh"), str(state)], check=True)
    print(f"start.sh (cluster up, srun works):       {start:6.1f} s")
    print(f"sbatch --wait of a trivial job:          {sbatch:6.1f} s")
    print(f"{n_jobs} chained trivial jobs, slurm-test:   {t_slurm:6.1f} s")
    print(f"{n_jobs} chained trivial jobs, local:        {t_local:6.1f} s")
    print(f"per-job overhead of SLURM:               {(t_slurm - t_local) / n_jobs:6.1f} s")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:]))
