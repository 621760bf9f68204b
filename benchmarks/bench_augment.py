"""Time the few-shot augmentation (miro.data.augment) on the paper's training FOVs.

For each folder: point-cloud generation alone, graph building alone (miro.core.graph.build_graph),
and the end-to-end ``augment_graphs`` with a process pool. Serial parts report wall and CPU
time per graph (CPU time is the figure that survives a shared, loaded machine). Defaults: the
full 1,500 graphs of Ground Truth - Scenario 8 on 2 processes (target: < 2 min), and a
per-graph figure for Multiple Blinking - Scenario 5.

    .venv/bin/python benchmarks/bench_augment.py [--benchmark-dir DIR] [--n-jobs 2]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import pandas as pd

from miro.core.graph import build_graph
from miro.data.augment import augment_graphs, augment_point_clouds, settings_for_benchmark
from miro.data.benchmark import list_fovs
from miro.data.readers import read_localizations

REPO = Path(__file__).resolve().parents[1]
SETTINGS = REPO / "resources" / "benchmark_settings.csv"


def bench(folder: str, root: Path, n_total: int, n_serial: int, n_jobs: int, seed: int) -> dict:
    row = pd.read_csv(SETTINGS).set_index("folder").loc[folder]
    files = list_fovs(root / folder)
    fovs = [read_localizations(files[int(f)], fmt="benchmark") for f in row.train_fovs.split()]
    settings, radius = settings_for_benchmark(folder), float(row.connectivity_radius_normalized)

    c0, t0 = time.process_time(), time.perf_counter()
    clouds = list(augment_point_clouds(fovs, n_serial, settings, seed))
    c1, t1 = time.process_time(), time.perf_counter()
    for c in clouds:
        build_graph(c.positions, radius, labels=c.labels, early_labels=c.early_labels)
    c2, t2 = time.process_time(), time.perf_counter()
    graphs = augment_graphs(fovs, n_total, settings, seed, radius, n_jobs=n_jobs)
    t3 = time.perf_counter()
    return {
        "folder": folder,
        "nodes_mean": sum(g.num_nodes for g in graphs) / len(graphs),
        "cloud_ms": 1e3 * (t1 - t0) / n_serial,
        "cloud_cpu_ms": 1e3 * (c1 - c0) / n_serial,
        "graph_ms": 1e3 * (t2 - t1) / n_serial,
        "graph_cpu_ms": 1e3 * (c2 - c1) / n_serial,
        "n_graphs": n_total,
        "n_jobs": n_jobs,
        "pool_total_s": t3 - t2,
        "pool_per_graph_ms": 1e3 * (t3 - t2) / n_total,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--benchmark-dir", type=Path, default=REPO.parent / "shared" / "benchmark")
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(f"cpus available: {len(os.sched_getaffinity(0))}, load average: {os.getloadavg()}")
    runs = [
        ("Ground Truth - Scenario 8", 1500, 100),
        ("Multiple Blinking - Scenario 5", 40, 20),
    ]
    rows = [bench(f, args.benchmark_dir, n, s, args.n_jobs, args.seed) for f, n, s in runs]
    print(pd.DataFrame(rows).round(2).to_string(index=False))


if __name__ == "__main__":
    main()
