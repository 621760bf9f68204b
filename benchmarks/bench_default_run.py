"""Wall time of the default run (``config.yaml``), the workflow's default job, on this machine.

Runs Snakemake with ``config.yaml`` in a fresh temporary folder (``--cores 2`` by default; any
``--target`` instead of the default job, e.g. ``ablations``) and prints the total wall time, the
load average around it, and each rule's job count and summed job time (Snakemake's benchmark
files, ``results/benchmarks/``). The virtual environment must already exist (``./run.sh`` makes
it; a fresh clone's ``./run.sh`` adds about a minute of set-up).

    .venv/bin/python benchmarks/bench_default_run.py [--cores 2] [--config local_copies=DIR]

``--rules DIR`` only prints the per-rule table of a finished run in ``DIR`` (e.g. the results of
a fresh clone's ``./run.sh``).
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


def rule_times(benchmarks: Path) -> pd.DataFrame:
    """Job count and summed wall time per rule: a benchmark file's first folder under
    ``benchmarks`` names its rule, except directly under ``benchmarks`` (the file's stem) and
    under ``ablations`` (the stem's first two words, e.g. ``magik_train``)."""
    rows = []
    for path in benchmarks.rglob("*.tsv"):
        parts = path.relative_to(benchmarks).parts
        if parts[0] == "ablations":
            rule = "ablations: " + "_".join(path.stem.split("_")[:2])
        else:
            rule = path.stem if len(parts) == 1 else parts[0]
        rows.append((rule, float(pd.read_csv(path, sep="\t")["s"].iloc[0])))
    table = pd.DataFrame(rows, columns=["rule", "s"]).groupby("rule")["s"].agg(["count", "sum"])
    return table.sort_values("sum", ascending=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--target", action="append", default=[], help="default: the default job")
    parser.add_argument("--keep", type=Path, help="run in this folder and keep it")
    parser.add_argument("--config", nargs="*", default=[], help="snakemake --config KEY=VALUE")
    parser.add_argument("--rules", type=Path, help="a finished run's folder: print its rule times")
    args = parser.parse_args()
    if args.rules:
        print(rule_times(args.rules / "results" / "benchmarks").round(1).to_string())
        return
    workdir = args.keep or Path(tempfile.mkdtemp(prefix="default-run-"))
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile")]
    cmd += ["--directory", str(workdir), "--configfile", str(REPO / "config.yaml")]
    cmd += ["--cores", str(args.cores), *args.target]
    if args.config:
        cmd += ["--config", *args.config]
    load = os.getloadavg()[0]
    start = time.perf_counter()
    run = subprocess.run(cmd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if run.returncode:
        sys.exit(run.stderr[-4000:])
    print(
        f"default run {' '.join(args.target) or '(default job)'}, --cores {args.cores}: "
        f"wall {wall:.0f} s (load average before/after {load:.1f}/{os.getloadavg()[0]:.1f}), "
        f"results in {workdir}"
    )
    print(rule_times(workdir / "results" / "benchmarks").round(1).to_string())


if __name__ == "__main__":
    main()
