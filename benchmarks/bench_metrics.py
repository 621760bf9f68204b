"""Time :func:`miro.evaluation.metrics.evaluate_fovs` on one core.

The 47 test FOVs of `Multiple Blinking - Scenario 5` (about 12,000 localizations and 100
clusters each), two methods: DBSCAN with the published parameters and DBSCAN with eps + 10 %
and min_samples - 4. Only the metrics are timed (CSV reading and DBSCAN are not).

    .venv/bin/python benchmarks/bench_metrics.py [--benchmark-dir DIR] [--profile]
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"  # one core: set before numpy is imported

import argparse  # noqa: E402
import cProfile  # noqa: E402
import pstats  # noqa: E402
import re  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import pandas as pd  # noqa: E402

from miro.evaluation.dbscan import dbscan_labels  # noqa: E402
from miro.evaluation.metrics import FovRecord, evaluate_fovs  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
FOLDER = "Multiple Blinking - Scenario 5"


def load_records(benchmark_dir: Path) -> list[FovRecord]:
    settings = pd.read_csv(REPO / "resources" / "benchmark_settings.csv").set_index("folder")
    row = settings.loc[FOLDER]
    train = {int(v) for v in row["train_fovs"].split()}
    eps, min_samples = float(row["baseline_dbscan_eps_nm"]), int(row["baseline_dbscan_min_samples"])
    records = []
    for path in sorted((benchmark_dir / FOLDER).glob("*.csv")):
        fov = int(re.findall(r"\d+", path.stem)[-1])
        if fov in train:
            continue
        table = pd.read_csv(path)
        coords, truth = table[["x", "y"]].to_numpy(), table["index"].to_numpy()
        predictions = {
            "DBSCAN": dbscan_labels(coords, eps, min_samples),
            "DBSCAN_variant": dbscan_labels(coords, 1.1 * eps, min_samples - 4),
        }
        records.append(FovRecord(FOLDER, fov, coords, truth, predictions))
    return records


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--benchmark-dir", type=Path, default=REPO.parent / "shared" / "benchmark")
    parser.add_argument("--profile", action="store_true", help="print the top cProfile entries")
    args = parser.parse_args()
    records = load_records(args.benchmark_dir)
    n_loc = sum(len(r.coords) for r in records) / len(records)
    profiler = cProfile.Profile() if args.profile else None
    start, cpu_start = time.perf_counter(), time.process_time()
    if profiler:
        profiler.enable()
    table = evaluate_fovs(records)
    if profiler:
        profiler.disable()
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    pairs = len(records) * 2
    print(f"{FOLDER}: {len(records)} FOVs x 2 methods, {n_loc:.0f} localizations per FOV")
    print(
        f"metrics: {seconds:.2f} s wall ({cpu:.2f} s CPU) total, "
        f"{seconds / pairs * 1000:.0f} ms per FOV and method"
    )
    print(table.groupby(["method", "metric"], sort=False)["value"].mean().unstack().round(3))
    if profiler:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)


if __name__ == "__main__":
    main()
