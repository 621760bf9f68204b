"""CPU seconds of the DBSCAN parameter landscapes (`miro.evaluation.landscape`, Supp. Fig. 1) on
real benchmark FOVs, for plain DBSCAN and for MIRO + DBSCAN.

The FOVs are the first ``--fovs`` of a benchmark folder (default Multiple Blinking - Scenario 5,
~12,000 localizations each, the densest of the default run). MIRO + DBSCAN's coordinates are a
stand-in for a model's output (nothing is trained or loaded): each clustered localization moved
``--squeeze`` of the way to its ground-truth cluster's centroid, which makes the neighbourhoods as
dense as squeezed clusters make them. The grid is the dataset's search range (eps 2-200 nm, log
spaced; min_samples 2-60), the chosen parameters the folder's published DBSCAN ones. Prints
CPU seconds (``time.process_time``) per method and in all, and checks one cell against
scikit-learn's DBSCAN.

    .venv/bin/python benchmarks/bench_landscape.py [--folder DIR] [--fovs 10] [--eps-points 16]
        [--min-samples-points 12]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from miro.config import benchmark_row
from miro.data.benchmark import fov_number
from miro.data.readers import read_localizations
from miro.evaluation.dbscan import dbscan_labels
from miro.evaluation.landscape import (
    LandscapeFov,
    dbscan_grid,
    eps_grid,
    landscape,
    min_samples_grid,
    summary,
)

BENCHMARK = Path("/work/shared/benchmark")


def squeezed(coords: np.ndarray, truth: np.ndarray, fraction: float) -> np.ndarray:
    """Clustered localizations moved ``fraction`` of the way to their cluster's centroid."""
    out = coords.copy()
    for label in np.unique(truth[truth != 0]):
        members = truth == label
        centroid = coords[members].mean(axis=0)
        out[members] += fraction * (centroid - coords[members])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--folder", default=str(BENCHMARK / "Multiple Blinking - Scenario 5"))
    parser.add_argument("--fovs", type=int, default=10)
    parser.add_argument("--eps-points", type=int, default=16)
    parser.add_argument("--min-samples-points", type=int, default=12)
    parser.add_argument("--squeeze", type=float, default=0.8)
    args = parser.parse_args()
    files = sorted(Path(args.folder).glob("*.csv"), key=fov_number)
    frames = [read_localizations(f, fmt="benchmark") for f in files[: args.fovs]]
    eps = eps_grid([2.0, 200.0], args.eps_points)
    min_samples = min_samples_grid([2, 60], args.min_samples_points)
    sizes = [len(f) for f in frames]
    print(f"{args.folder}: {len(frames)} FOVs, {np.mean(sizes):.0f} localizations on average")
    print(f"grid: {len(eps)} eps x {len(min_samples)} min_samples = {len(eps) * len(min_samples)}")
    row = benchmark_row(Path(args.folder).name)
    chosen = {
        "eps": row["baseline_dbscan_eps_nm"],
        "min_samples": row["baseline_dbscan_min_samples"],
    }
    tables, total = {}, 0.0
    for method in ("DBSCAN", "MIRO"):
        fovs = []
        for frame in frames:
            coords, truth = frame[["x", "y"]].to_numpy(), frame["index"].to_numpy()
            moved = squeezed(coords, truth, args.squeeze) if method == "MIRO" else coords
            fovs.append(LandscapeFov(moved, coords, truth))
        start = time.process_time()
        tables[method] = landscape(fovs, eps, min_samples, chosen, method)
        seconds = time.process_time() - start
        total += seconds
        print(f"{method}: {seconds:.1f} CPU s ({seconds / len(fovs):.2f} s per FOV)")
    print(f"total: {total:.1f} CPU s")
    fov = fovs[0].clustered
    cell = next(c for c in dbscan_grid(fov, eps, min_samples) if c[1] == min_samples[3])
    assert np.array_equal(cell[2], dbscan_labels(fov, cell[0], cell[1])), "labels differ"
    table = summary({Path(args.folder).name: pd.concat(tables.values(), ignore_index=True)})
    print(table[["method", "metric", "best", "chosen", "near_best_fraction"]].to_string())


if __name__ == "__main__":
    main()
