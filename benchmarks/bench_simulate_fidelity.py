"""Fidelity of the benchmark simulators: simulated vs real Scenarios 5, 6, 8 (with and without
blinking), 50 real FOVs against 50 simulated ones (:func:`miro.data.simulate.simulate_dataset`).

Summaries: localizations per FOV (mean), localizations per cluster (mean, median), cluster radius
of gyration (median), fraction of clustered localizations (mean), nearest-neighbour distance
(median over all localizations) and the two-sample KS statistic of the NN distances. Target: every
summary within 15 % of the real one. Writes benchmarks/out/simulate_fidelity.{csv,png} and the
Markdown table benchmarks/simulate_fidelity.md.

    .venv/bin/python benchmarks/bench_simulate_fidelity.py [--benchmark-dir DIR] [--seed N]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree
from scipy.stats import ks_2samp

from miro.data.benchmark import list_fovs
from miro.data.simulate import simulate_dataset
from miro.files import atomic_path, write_csv_atomic

REPO = Path(__file__).resolve().parents[1]
FOLDERS = [
    (f"{kind} - Scenario {s}", s, kind == "Multiple Blinking")
    for s in (5, 6, 8)
    for kind in ("Ground Truth", "Multiple Blinking")
]
TOLERANCE = 0.15
SUMMARIES = [  # (column, description)
    ("locs_per_fov", "localizations per FOV (mean)"),
    ("locs_per_cluster_mean", "localizations per cluster (mean)"),
    ("locs_per_cluster_median", "localizations per cluster (median)"),
    ("rg_median", "cluster radius of gyration, nm (median)"),
    ("clustered_fraction", "fraction clustered (mean)"),
    ("nn_median", "nearest-neighbour distance, nm (median)"),
]


def distributions(fovs: list[pd.DataFrame]) -> dict[str, np.ndarray]:
    """Per-FOV, per-cluster and per-localization quantities pooled over the FOVs."""
    out: dict[str, list] = {"locs_per_fov": [], "clustered_fraction": [], "locs_per_cluster": []}
    out |= {"rg": [], "nn": []}
    for df in fovs:
        xy, label = df[["x", "y"]].to_numpy(), df["index"].to_numpy()
        out["locs_per_fov"].append(len(df))
        out["clustered_fraction"].append(np.mean(label > 0))
        clustered = label > 0
        _, inverse, counts = np.unique(label[clustered], return_inverse=True, return_counts=True)
        centroid = np.stack([np.bincount(inverse, xy[clustered, a]) / counts for a in (0, 1)], 1)
        sq = np.sum((xy[clustered] - centroid[inverse]) ** 2, axis=1)
        out["locs_per_cluster"].append(counts)
        out["rg"].append(np.sqrt(np.bincount(inverse, sq) / counts)[counts >= 2])
        out["nn"].append(cKDTree(xy).query(xy, 2)[0][:, 1])
    return {
        k: np.concatenate(v) if k in ("locs_per_cluster", "rg", "nn") else np.array(v)
        for k, v in out.items()
    }


def summaries(d: dict[str, np.ndarray]) -> dict[str, float]:
    return {
        "locs_per_fov": d["locs_per_fov"].mean(),
        "locs_per_cluster_mean": d["locs_per_cluster"].mean(),
        "locs_per_cluster_median": float(np.median(d["locs_per_cluster"])),
        "rg_median": float(np.median(d["rg"])),
        "clustered_fraction": d["clustered_fraction"].mean(),
        "nn_median": float(np.median(d["nn"])),
    }


def plot(results: dict[str, tuple[dict, dict]], path: Path) -> None:
    panels = [
        ("locs_per_fov", "localizations per FOV"),
        ("locs_per_cluster", "per cluster"),
        ("rg", "radius of gyration (nm)"),
        ("nn", "NN distance (nm)"),
    ]
    fig, axes = plt.subplots(len(results), len(panels), figsize=(13, 2.2 * len(results)))
    for row, (folder, (real, sim)) in enumerate(results.items()):
        for col, (key, label) in enumerate(panels):
            ax = axes[row, col]
            upper = np.percentile(np.r_[real[key], sim[key]], 99.5)
            lower = min(real[key].min(), sim[key].min())
            bins = np.linspace(lower, upper, 40) if upper > lower else [lower - 1, lower + 1]
            ax.hist(real[key], bins, density=True, alpha=0.5, label="real")
            ax.hist(sim[key], bins, density=True, histtype="step", lw=1.5, label="simulated")
            ax.set_xlabel(label, fontsize=8)
            ax.tick_params(labelsize=7)
            if col == 0:
                ax.set_ylabel(folder.replace(" - ", "\n"), fontsize=8)
    axes[0, 0].legend(fontsize=7)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110)
    plt.close(fig)


def markdown(table: pd.DataFrame, seed: int) -> str:
    lines = [
        "# Simulated vs real benchmark FOVs",
        "",
        f"50 real FOVs per folder against 50 simulated (`simulate_dataset('benchmark', 50, {seed},"
        " scenario=..., blinking=...)`). Relative difference = (simulated - real) / real; target"
        f" |difference| <= {TOLERANCE:.0%}. KS = two-sample Kolmogorov-Smirnov statistic of the"
        " pooled nearest-neighbour distances.",
        "Generated by `benchmarks/bench_simulate_fidelity.py`.",
        "",
        "| folder | summary | real | simulated | rel. diff. |",
        "|---|---|---:|---:|---:|",
    ]
    for r in table.itertuples():
        if r.summary == "nn_ks":
            lines.append(f"| {r.folder} | NN distance KS statistic | | {r.simulated:.3f} | |")
        else:
            lines.append(
                f"| {r.folder} | {dict(SUMMARIES)[r.summary]} | {r.real:.4g} |"
                f" {r.simulated:.4g} | {r.rel_diff:+.1%} |"
            )
    worst = table["rel_diff"].abs().max()
    lines += ["", f"Largest |relative difference|: {worst:.1%}."]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--benchmark-dir", type=Path, default=REPO.parent / "shared" / "benchmark")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rows, results = [], {}
    for folder, scenario, blinking in FOLDERS:
        real_fovs = [pd.read_csv(p) for p in list_fovs(args.benchmark_dir / folder).values()]
        sim_fovs = simulate_dataset(
            "benchmark", len(real_fovs), args.seed, scenario=scenario, blinking=blinking
        )
        real, sim = distributions(real_fovs), distributions(sim_fovs)
        results[folder] = (real, sim)
        real_s, sim_s = summaries(real), summaries(sim)
        for key, _ in SUMMARIES:
            rel = (sim_s[key] - real_s[key]) / real_s[key]
            rows.append((folder, key, real_s[key], sim_s[key], rel))
        rows.append((folder, "nn_ks", np.nan, ks_2samp(real["nn"], sim["nn"]).statistic, np.nan))
    table = pd.DataFrame(rows, columns=["folder", "summary", "real", "simulated", "rel_diff"])
    out = REPO / "benchmarks" / "out"
    write_csv_atomic(table, out / "simulate_fidelity.csv")
    plot(results, out / "simulate_fidelity.png")
    with atomic_path(REPO / "benchmarks" / "simulate_fidelity.md") as tmp:
        tmp.write_text(markdown(table, args.seed))
    with pd.option_context("display.width", 140, "display.max_rows", 100):
        print(table.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    worst = table["rel_diff"].abs().max()
    print(f"largest |relative difference| {worst:.1%} (target {TOLERANCE:.0%})")


if __name__ == "__main__":
    main()
