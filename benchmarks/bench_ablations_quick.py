"""Wall time of the quick recurrent-steps ablation (``presets/ablations-quick.yaml``).

Runs ``snakemake ablations`` with ``config.yaml`` + the preset in a fresh temporary folder
(``--cores 2`` by default) and prints the total wall time and each rule's summed job time
(Snakemake's benchmark files). Everything the target needs runs: simulation, augmentation,
12 trainings, 12 evaluations, table and figure.

    .venv/bin/python benchmarks/bench_ablations_quick.py [--cores 2] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--keep", type=Path, help="run in this folder and keep it")
    args = parser.parse_args()
    workdir = args.keep or Path(tempfile.mkdtemp(prefix="ablations-quick-"))
    configs = [str(REPO / "config.yaml"), str(REPO / "presets" / "ablations-quick.yaml")]
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile")]
    cmd += ["--directory", str(workdir), "--configfile", *configs, "--cores", str(args.cores)]
    load = os.getloadavg()[0]
    start = time.perf_counter()
    run = subprocess.run([*cmd, "ablations"], capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if run.returncode:
        sys.exit(run.stderr[-4000:])
    jobs = [
        (path.stem.split("_L")[0], pd.read_csv(path, sep="\t")["s"].iloc[0])
        for path in (workdir / "results" / "benchmarks" / "ablations").glob("*.tsv")
    ]
    per_rule = pd.DataFrame(jobs, columns=["job", "s"]).groupby("job")["s"].agg(["count", "sum"])
    print(
        f"quick steps ablation, --cores {args.cores}, wall {wall:.0f} s "
        f"(load average before/after {load:.1f}/{os.getloadavg()[0]:.1f})"
    )
    print(per_rule.round(1).to_string())
    print(pd.read_csv(workdir / "results" / "ablations" / "steps.csv").to_string())


if __name__ == "__main__":
    main()
