"""Time and peak memory of `miro.applications.apply` on a simulated acquisition of ~10^6
localizations.

An integrin-like acquisition (paper Methods: Gaussian nanoclusters, sd 25-40 nm, 25
localizations per cluster on average, 4 % background) over 60 x 60 μm² is written as a
ThunderSTORM CSV by a child process (so its memory does not count), then analysed as
`miro.applications.apply.apply_to_file` does, stage by stage: read, squeeze window by window with a
random-weight MIRO (width 64, 10 steps, radius 0.1, trained-FOV extent 2000 nm: nothing is
trained, only the cost is measured), DBSCAN on squeezed and raw localizations, cluster tables,
output files and figures. Prints a Markdown table; peak memory is the process's maximum resident
set size (``ru_maxrss``: Python, NumPy and torch together).

    .venv/bin/python benchmarks/bench_apply.py [--n-clusters 38400] [--device cpu]
"""

from __future__ import annotations

import argparse
import multiprocessing
import platform
import resource
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from miro.applications.apply import (
    apply_to_file,
    cluster_table,
    load_model,
    simulate_acquisition,
    squeeze_large,
)
from miro.core.checkpoint import save_checkpoint
from miro.core.graph import NUM_EIGENVECTORS
from miro.core.model import MIRO
from miro.data.readers import read_localizations
from miro.evaluation.dbscan import dbscan_labels
from miro.files import write_csv_atomic

OUT = Path(__file__).resolve().parent / "out" / "apply"
RADIUS, FOV_NM = 0.1, 2000.0
MIRO_DBSCAN = {"eps": 30.0, "min_samples": 5}
BASELINE_DBSCAN = {"eps": 60.0, "min_samples": 5}


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def write_inputs(n_clusters: int, fov_nm: float, seed: int) -> None:
    """The acquisition CSV and the random-weight checkpoint (run in a child process)."""
    table = simulate_acquisition(seed, n_clusters=n_clusters, fov_size=fov_nm)
    write_csv_atomic(table, OUT / "acquisition.csv")
    torch.manual_seed(seed)
    graph = {"radius": RADIUS, "eigenvectors": NUM_EIGENVECTORS, "fov_nm": FOV_NM}
    save_checkpoint(OUT / "model.pt", MIRO(width=64, steps=10), radius=RADIUS, graph=graph)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-clusters", type=int, default=38_400)
    parser.add_argument("--fov-nm", type=float, default=60_000.0)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    child = multiprocessing.get_context("spawn").Process(
        target=write_inputs, args=(args.n_clusters, args.fov_nm, args.seed)
    )
    child.start()
    child.join()
    if child.exitcode:
        raise SystemExit(f"writing the inputs failed (exit code {child.exitcode})")
    start_rss = rss_mib()

    times = {}
    t = time.perf_counter()
    model, radius, window_nm, overlap_nm = load_model(OUT / "model.pt", None, None)
    table = read_localizations(OUT / "acquisition.csv")
    coords = table[["x", "y"]].to_numpy()
    times["read file + checkpoint"] = time.perf_counter() - t

    t = time.perf_counter()
    squeezed = squeeze_large(
        model, coords, radius, window_nm=window_nm, overlap_nm=overlap_nm, device=args.device
    ).squeezed_nm
    times[f"squeeze ({window_nm:g} nm windows, {overlap_nm:g} nm halo)"] = time.perf_counter() - t

    t = time.perf_counter()
    labels = {"MIRO": dbscan_labels(squeezed, **MIRO_DBSCAN)}
    times["DBSCAN on squeezed"] = time.perf_counter() - t
    t = time.perf_counter()
    labels["DBSCAN"] = dbscan_labels(coords, **BASELINE_DBSCAN)
    times["DBSCAN on raw (baseline)"] = time.perf_counter() - t

    t = time.perf_counter()
    tables = {m: cluster_table(coords, v) for m, v in labels.items()}
    times["cluster tables (both)"] = time.perf_counter() - t
    core = sum(times.values())
    peak_core = rss_mib()

    t = time.perf_counter()
    apply_to_file(
        OUT / "acquisition.csv",
        OUT / "model.pt",
        miro_dbscan=MIRO_DBSCAN,
        baseline_dbscan=BASELINE_DBSCAN,
        out_dir=OUT / "result",
        device=args.device,
    )
    whole = time.perf_counter() - t

    n_clusters = {m: len(tab) for m, tab in tables.items()}
    print(
        f"\n{len(coords):,} localizations over {np.ptp(coords, axis=0).max() / 1e3:.0f} μm, "
        f"{n_clusters['MIRO']:,} MIRO / {n_clusters['DBSCAN']:,} DBSCAN clusters; "
        f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} torch threads, "
        f"device {args.device}\n"
    )
    rows = [{"stage": k, "seconds": f"{v:.1f}"} for k, v in times.items()]
    rows += [
        {"stage": "**squeeze + DBSCAN + tables**", "seconds": f"**{core:.1f}**"},
        {
            "stage": "apply_to_file end to end (all of the above + CSVs, figures)",
            "seconds": f"{whole:.1f}",
        },
    ]
    print(pd.DataFrame(rows).to_markdown(index=False))
    print(
        f"\nPeak RSS: {peak_core:,.0f} MiB after squeeze + DBSCAN + tables, {rss_mib():,.0f} MiB "
        f"after the end-to-end run (RSS after imports: {start_rss:,.0f} MiB)."
    )


if __name__ == "__main__":
    main()
