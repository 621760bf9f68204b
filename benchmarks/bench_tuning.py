"""Tuning that holds up (issue #15): our Optuna-tuned DBSCAN parameters against the authors'.

For each benchmark folder given on the command line, the authors' published MIRO model squeezes
all 50 FOVs (steps and radius from resources/benchmark_settings.csv; cached with ``--cache``),
and DBSCAN is applied with

- MIRO, authors: their ``MIRO_DBSCAN_params`` (benchmark/metadata.json);
- MIRO, ours before: our study with the settings before issue #15 (:data:`BEFORE`);
- MIRO, ours after: our study with the current defaults (:func:`miro.config.load_settings`);
- DBSCAN, published: the benchmark's parameters (the paper's DBSCAN rows, ``dbscan.baseline``
  auto);
- DBSCAN, ours before / after: the raw points tuned by our study, as for MIRO.

Each study is the workflow's (:func:`miro.evaluation.tuning.optimise_with_settings`, seed 0, the
3 training FOVs); the scores are means over the 47 test FOVs, and p is the paired one-sided
Wilcoxon test (:func:`miro.evaluation.stats.paired_test`) of each row against DBSCAN,
published. Writes the Markdown table to ``--out`` (benchmarks/tuning.md).

    .venv/bin/python benchmarks/bench_tuning.py "Multiple Blinking - Scenario 5" ... \
        [--benchmark-dir DIR] [--weights-dir DIR] [--cache DIR] [--n-trials N]
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"  # one core: set before numpy is imported

import argparse  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import torch  # noqa: E402

from miro.applications.published import load_published  # noqa: E402
from miro.config import benchmark_row, load_settings  # noqa: E402
from miro.core.squeeze import squeeze_many  # noqa: E402
from miro.data.benchmark import list_fovs  # noqa: E402
from miro.data.published_files import METADATA_PATH, checkpoint_path, read_miro_dbscan  # noqa: E402
from miro.data.readers import read_localizations  # noqa: E402
from miro.evaluation.dbscan import dbscan_labels  # noqa: E402
from miro.evaluation.metrics import HIGHER_IS_BETTER, evaluate_fov  # noqa: E402
from miro.evaluation.stats import paired_test  # noqa: E402
from miro.evaluation.tuning import optimise_with_settings  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
#: Our study's settings before issue #15: mean ARI, eps 2-200 nm, min_samples 2-60, TPE.
BEFORE = {"objective": "ARI", "eps_nm": [2.0, 200.0], "min_samples": [2, 60]}
METRICS = ("ARI_dagger", "IoU", "JI_c", "ARI")
TESTED = ("ARI_dagger", "IoU", "JI_c")
SEED = 0


def squeezed_folder(folder: str, args: argparse.Namespace) -> dict[int, dict[str, np.ndarray]]:
    """Raw coordinates, labels and squeezed coordinates of every FOV of ``folder``."""
    row = benchmark_row(folder)
    steps, radius = int(row["recurrent_steps"]), float(row["connectivity_radius_normalized"])
    cache = None
    if args.cache is not None:
        cache = args.cache / f"{folder.replace(' ', '_')}_steps{steps}_r{radius}.npz"
        if cache.is_file():
            stored = np.load(cache)
            return {
                int(k[3:]): {
                    "coords": stored[f"xy_{k[3:]}"],
                    "truth": stored[f"gt_{k[3:]}"],
                    "squeezed": stored[k],
                }
                for k in stored.files
                if k.startswith("sq_")
            }
    frames = {
        n: read_localizations(path, fmt="benchmark")
        for n, path in list_fovs(args.benchmark_dir / folder).items()
    }
    model = load_published(args.weights_dir / checkpoint_path(folder), steps=steps).eval()
    coords = [frame[["x", "y"]].to_numpy() for frame in frames.values()]
    results = squeeze_many(model, coords, radius, device="cpu")
    fovs = {
        n: {"coords": xy, "truth": frame["index"].to_numpy(), "squeezed": r.squeezed_nm}
        for (n, frame), xy, r in zip(frames.items(), coords, results, strict=True)
    }
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(
            cache,
            **{
                f"{key}_{n}": fov[name]
                for n, fov in fovs.items()
                for key, name in (("xy", "coords"), ("gt", "truth"), ("sq", "squeezed"))
            },
        )
    return fovs


def scores(fovs: dict, ids: list[int], points: str, params: dict) -> dict[str, np.ndarray]:
    """Per-FOV :data:`METRICS` of DBSCAN(``params``) on ``points`` (raw or squeezed) of
    ``ids``, scored on the raw coordinates."""
    rows = [
        evaluate_fov(
            fovs[n]["coords"],
            fovs[n]["truth"],
            {"m": dbscan_labels(fovs[n][points], params["eps"], params["min_samples"])},
            METRICS,
        ).iloc[0]
        for n in ids
    ]
    return {m: np.array([r[m] for r in rows], float) for m in METRICS}


def tuned(fovs: dict, train: list[int], points: str, dbscan: dict) -> dict:
    """Best parameters of our study (``dbscan`` settings) on the training FOVs' ``points``."""
    best, _ = optimise_with_settings(
        [(fovs[n][points], fovs[n]["truth"]) for n in train],
        dbscan,
        seed=SEED,
        storage_path=None,
        study_name="bench",
        fov_ids=train,
    )
    return best


def folder_rows(folder: str, args: argparse.Namespace) -> list[dict]:
    settings = load_settings(
        {
            "defaults": {"dbscan": {"n_trials": args.n_trials}},
            "datasets": {"ds": {"source": "benchmark", "folder": folder}},
        }
    )["datasets"]["ds"]
    after = settings["dbscan"]
    before = {**after, **BEFORE}
    fovs = squeezed_folder(folder, args)
    train = [int(v) for v in str(benchmark_row(folder)["train_fovs"]).split()]
    test = [n for n in fovs if n not in train]
    configs = [
        ("MIRO", "authors", "squeezed", read_miro_dbscan(args.weights_dir / METADATA_PATH, folder)),
        ("MIRO", "ours before", "squeezed", tuned(fovs, train, "squeezed", before)),
        ("MIRO", "ours after", "squeezed", tuned(fovs, train, "squeezed", after)),
        ("DBSCAN", "published", "coords", settings["published_dbscan"]),
        ("DBSCAN", "ours before", "coords", tuned(fovs, train, "coords", before)),
        ("DBSCAN", "ours after", "coords", tuned(fovs, train, "coords", after)),
    ]
    per_fov = {
        (method, label): (params, scores(fovs, test, points, params))
        for method, label, points, params in configs
    }
    baseline = per_fov[("DBSCAN", "published")][1]
    rows = []
    for (method, label), (params, values) in per_fov.items():
        row = {
            "folder": folder,
            "method": method,
            "parameters": label,
            "eps": round(float(params["eps"]), 2),
            "min_samples": int(params["min_samples"]),
        }
        for m in METRICS:
            row[m] = f"{np.mean(values[m]):.3f} ± {np.std(values[m], ddof=1):.3f}"
        for m in TESTED:
            if (method, label) != ("DBSCAN", "published"):
                p = paired_test(values[m], baseline[m], HIGHER_IS_BETTER[m])["p"]
                row[f"p {m}"] = f"{p:.2g}"
        rows.append(row)
        print(row, flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", help="e.g. 'Multiple Blinking - Scenario 5'")
    parser.add_argument("--benchmark-dir", type=Path, default=REPO.parent / "shared" / "benchmark")
    parser.add_argument("--weights-dir", type=Path, default=REPO.parent / "shared" / "weights")
    parser.add_argument("--cache", type=Path, default=None, help="folder caching squeezed FOVs")
    parser.add_argument("--n-trials", type=int, default=100, help="trials of each study")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "tuning.md")
    args = parser.parse_args()
    torch.set_num_threads(1)
    table = pd.DataFrame([row for folder in args.folders for row in folder_rows(folder, args)])
    table = table.fillna("")
    header = (
        "# DBSCAN parameters: our study vs the authors'\n\n"
        f"Generated by `benchmarks/bench_tuning.py` ({args.n_trials} trials per study, seed "
        f"{SEED}, tuned on the 3 training FOVs). Means ± sd over the 47 test FOVs; p: paired "
        "one-sided Wilcoxon test against DBSCAN, published.\n"
        f"Before: {BEFORE}.\n\n"
    )
    args.out.write_text(header + table.to_markdown(index=False) + "\n")


if __name__ == "__main__":
    main()
