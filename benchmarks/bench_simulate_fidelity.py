"""Fidelity of the benchmark simulator: every labelled folder it is given against (a) its
scenario's simulation (:data:`miro.data.simulate.SCENARIOS`, folders named like the benchmark's
``Ground Truth - Scenario N`` / ``Multiple Blinking - Scenario N``) and (b) the simulation with
the settings calibrated on the folder itself (:func:`miro.data.calibrate.calibrate`; works on
any folder of labelled localization files, the user's own data included). As many simulated
FOVs as real ones.

Summaries: localizations per FOV (mean), localizations per cluster (mean, median), cluster radius
of gyration (median), fraction of clustered localizations (mean), nearest-neighbour distance
(median over all localizations) and the two-sample KS statistic of the NN distances. Target: every
summary within 10 % of the real one. Writes benchmarks/out/simulate_fidelity.{csv,png} and the
Markdown report benchmarks/simulate_fidelity.md.

    nice -n 10 python benchmarks/bench_simulate_fidelity.py [FOLDER ...] [--local-dir DIR]
        [--seed N]

Default: every folder of ``--local-dir`` (default $MIRO_BENCHMARK_DIR, else ../shared/benchmark).
"""

from __future__ import annotations

import argparse
import os
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree
from scipy.stats import ks_2samp

from miro.data.calibrate import SUFFIXES, Calibration, calibrate, read_labelled_folder
from miro.data.simulate import SCENARIOS, simulate_dataset
from miro.files import atomic_path, write_csv_atomic

REPO = Path(__file__).resolve().parents[1]
LOCAL_DIR = Path(os.environ.get("MIRO_BENCHMARK_DIR", REPO.parent / "shared" / "benchmark"))
TOLERANCE = 0.10
BENCHMARK_NAME = re.compile(r"^(Ground Truth|Multiple Blinking) - Scenario (\d+)$")
SUMMARIES = [  # (column, description)
    ("locs_per_fov", "localizations per FOV (mean)"),
    ("locs_per_cluster_mean", "localizations per cluster (mean)"),
    ("locs_per_cluster_median", "localizations per cluster (median)"),
    ("rg_median", "cluster radius of gyration, nm (median)"),
    ("clustered_fraction", "fraction clustered (mean)"),
    ("nn_median", "nearest-neighbour distance, nm (median)"),
]
MODELS = ("scenario", "calibrated")


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


def benchmark_scenario(folder: Path) -> tuple[int, bool] | None:
    """``(scenario, blinking)`` of a folder named like the benchmark's, else None."""
    match = BENCHMARK_NAME.match(folder.name)
    if match is None or int(match[2]) not in SCENARIOS:
        return None
    return int(match[2]), match[1] == "Multiple Blinking"


def labelled_folders(local_dir: Path) -> list[Path]:
    """Sub-folders of ``local_dir`` holding localization files, sorted by name."""
    return sorted(
        p
        for p in local_dir.iterdir()
        if p.is_dir() and any(f.suffix.lower() in SUFFIXES for f in p.iterdir())
    )


def plot(results: dict[str, dict[str, dict]], path: Path) -> None:
    panels = [
        ("locs_per_fov", "localizations per FOV"),
        ("locs_per_cluster", "per cluster"),
        ("rg", "radius of gyration (nm)"),
        ("nn", "NN distance (nm)"),
    ]
    fig, axes = plt.subplots(
        len(results), len(panels), figsize=(13, 2.2 * len(results)), squeeze=False
    )
    for row, (folder, dists) in enumerate(results.items()):
        for col, (key, label) in enumerate(panels):
            ax = axes[row, col]
            values = np.concatenate([d[key] for d in dists.values()])
            upper, lower = np.percentile(values, 99.5), values.min()
            bins = np.linspace(lower, upper, 40) if upper > lower else [lower - 1, lower + 1]
            ax.hist(dists["real"][key], bins, density=True, alpha=0.5, label="real")
            for name in MODELS:
                if name in dists:
                    ax.hist(dists[name][key], bins, density=True, histtype="step", label=name)
            ax.set_xlabel(label, fontsize=8)
            ax.tick_params(labelsize=7)
            if col == 0:
                ax.set_ylabel(folder.replace(" - ", "\n"), fontsize=8)
    axes[0, 0].legend(fontsize=7)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110)
    plt.close(fig)


def settings_text(c: Calibration) -> str:
    groups = "; ".join(
        f"{g.n_clusters} x {g.molecules} molecules, sd {g.sd:.1f}"
        + (f" x {g.sd_minor:.1f}" if g.sd_minor else "")
        + " nm"
        for g in c.groups
    )
    blinking = (
        f"blinking {c.blinks_per_molecule:.2f} locs/molecule, precision "
        f"{c.localization_precision:.1f} nm"
        if c.blinking
        else "no blinking"
    )
    gradient = ", background gradient" if c.background_gradient else ""
    return (
        f"{groups}; clustered fraction {c.clustered_fraction:.3f}; FOV {c.fov_size:.0f} nm; "
        f"{blinking}{gradient}"
    )


def markdown(table: pd.DataFrame, calibrations: dict[str, Calibration], seed: int) -> str:
    lines = [
        "# Simulated vs real benchmark FOVs",
        "",
        "Every folder against (a) its scenario's simulation (`simulate_dataset('benchmark', n,"
        f" {seed}, scenario=..., blinking=...)`, settings and sources in"
        " `resources/benchmark_simulation.csv`) and (b) the simulation with the settings"
        f" calibrated on the folder (`simulate_dataset('benchmark', n, {seed},"
        " **calibrate(folder).params())`), as many simulated FOVs as real ones. Relative"
        f" difference = (simulated - real) / real; target |difference| <= {TOLERANCE:.0%}. KS ="
        " two-sample Kolmogorov-Smirnov statistic of the pooled nearest-neighbour distances.",
        "Generated by `benchmarks/bench_simulate_fidelity.py`.",
        "",
        "## Largest |relative difference| per folder",
        "",
        "| folder | FOVs | scenario simulation | NN KS | calibrated simulation | NN KS |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for folder, rows in table.groupby("folder", sort=False):
        cells = []
        for model in MODELS:
            part = rows[rows["model"] == model]
            if part.empty:
                cells += ["n/a", ""]
                continue
            worst = part["rel_diff"].abs().max()
            ks = part.loc[part["summary"] == "nn_ks", "simulated"].iloc[0]
            cells += [f"{worst:.1%}", f"{ks:.3f}"]
        lines.append(f"| {folder} | {calibrations[folder].n_fovs} | {' | '.join(cells)} |")
    lines += ["", "## Calibrated settings", "", "| folder | settings |", "|---|---|"]
    lines += [f"| {f} | {settings_text(c)} |" for f, c in calibrations.items()]
    lines += [
        "",
        "## Summaries",
        "",
        "| folder | summary | real | scenario | rel. diff. | calibrated | rel. diff. |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    wide = table.pivot_table(
        index=["folder", "summary"], columns="model", values=["real", "simulated", "rel_diff"]
    )
    for folder in table["folder"].unique():
        for key, description in [*SUMMARIES, ("nn_ks", "NN distance KS statistic")]:
            row = wide.loc[(folder, key)]
            cells = []
            for model in MODELS:
                if ("simulated", model) not in row.index or np.isnan(row["simulated", model]):
                    cells += ["", ""]
                elif key == "nn_ks":
                    cells += [f"{row['simulated', model]:.3f}", ""]
                else:
                    cells += [f"{row['simulated', model]:.4g}", f"{row['rel_diff', model]:+.1%}"]
            real = "" if key == "nn_ks" else f"{np.nanmax(row['real']):.4g}"
            lines.append(f"| {folder} | {description} | {real} | {' | '.join(cells)} |")
    worst = table["rel_diff"].abs().max()
    lines += ["", f"Largest |relative difference| over all folders and models: {worst:.1%}."]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="*", type=Path, help="labelled folders (default: all)")
    parser.add_argument("--local-dir", type=Path, default=LOCAL_DIR)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    folders = args.folders or labelled_folders(args.local_dir)
    if not folders:
        parser.error(f"no labelled folders in {args.local_dir}")
    rows, results, calibrations = [], {}, {}
    for folder in folders:
        real_fovs = list(read_labelled_folder(folder).values())
        n = len(real_fovs)
        calibration = calibrate(folder, seed=args.seed)
        calibrations[folder.name] = calibration
        simulated = {
            "calibrated": simulate_dataset("benchmark", n, args.seed, **calibration.params())
        }
        scenario = benchmark_scenario(folder)
        if scenario is not None:
            simulated["scenario"] = simulate_dataset(
                "benchmark", n, args.seed, scenario=scenario[0], blinking=scenario[1]
            )
        real = distributions(real_fovs)
        real_s = summaries(real)
        results[folder.name] = {"real": real}
        for model, fovs in simulated.items():
            sim = distributions(fovs)
            results[folder.name][model] = sim
            sim_s = summaries(sim)
            for key, _ in SUMMARIES:
                rel = (sim_s[key] - real_s[key]) / real_s[key]
                rows.append((folder.name, model, key, real_s[key], sim_s[key], rel))
            ks = ks_2samp(real["nn"], sim["nn"]).statistic
            rows.append((folder.name, model, "nn_ks", np.nan, ks, np.nan))
        print(f"{folder.name}: {settings_text(calibration)}", flush=True)
    table = pd.DataFrame(
        rows, columns=["folder", "model", "summary", "real", "simulated", "rel_diff"]
    )
    out = REPO / "benchmarks" / "out"
    write_csv_atomic(table, out / "simulate_fidelity.csv")
    plot(results, out / "simulate_fidelity.png")
    with atomic_path(REPO / "benchmarks" / "simulate_fidelity.md") as tmp:
        tmp.write_text(markdown(table, calibrations, args.seed))
    worst = table.groupby(["folder", "model"], sort=False)["rel_diff"].apply(
        lambda v: v.abs().max()
    )
    print(worst.unstack().to_string(float_format=lambda v: f"{v:.1%}"))
    print(f"largest |relative difference| {worst.max():.1%} (target {TOLERANCE:.0%})")


if __name__ == "__main__":
    main()
