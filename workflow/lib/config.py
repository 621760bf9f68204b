"""Resolve the validated workflow configuration into fully specified per-dataset settings.

Precedence, lowest to highest: the built-in defaults below, the per-folder reference settings of
``resources/benchmark_settings.csv`` (benchmark folders only: recurrent steps, connectivity radius,
augmented graphs, training FOVs, published DBSCAN parameters), the config's ``defaults`` section,
then the dataset's own ``settings``. A ``null`` in the config means "use the per-folder value".
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

BENCHMARK_SETTINGS = Path(__file__).resolve().parents[2] / "resources" / "benchmark_settings.csv"
UPSTREAM_RAW = (
    "https://raw.githubusercontent.com/DJ-Nieves/ARI-and-IoU-cluster-analysis-evaluation/"
    "3b0580b428ae316207cc2fb1ee89345851fc53ed/"
)

#: Settings used when neither the config nor benchmark_settings.csv give a value
#: (the reference settings of the paper where it states them).
BUILTIN: dict[str, Any] = {
    "n_train": 3,
    "model": {
        "source": "train",
        "published_file": None,
        "width": 256,
        "steps": 12,
        "radius": 0.1,
        "num_classes": None,  # None: inferred from the training data's class column
    },
    "augment": {"n_graphs": 1000, "chunks": 4, "single_shot": False},
    # beta: the paper's ablation (Methods, "Loss function weights") finds 0.15-0.2 best;
    # k_star: multiscale only, no default (the switch step depends on the structures).
    "train": {
        "epochs": 30,
        "batch_size": 4,
        "lr": 1e-4,
        "alpha": 10.0,
        "beta": 0.15,
        "k_star": None,
    },
    "dbscan": {
        "baseline": "auto",
        "tuning_fovs": "train",
        "objective": "ARI",
        "n_trials": 60,
        "eps_nm": [2.0, 200.0],
        "min_samples": [2, 60],
    },
}

TOP_LEVEL: dict[str, Any] = {
    "preset": "custom",
    "seed": 0,
    "device": "auto",
    "example_fov": None,
    "benchmark": {"local_dir": None, "base_url": UPSTREAM_RAW, "retries": 4},
    "experiments": {"shapes": [], "multiscale": [], "adjacent": None},
    # recurrent-steps ablation at the paper's size (Methods, "Number of recurrent steps"; the
    # augmented graphs of Multiple Blinking - Scenario 6); run only with an ablations section
    "ablations": {
        "steps": {
            "depths": [5, 10, 15, 20, 25],
            "repeats": 5,
            "n_fovs": 50,
            "n_graphs": 1000,
            "epochs": 30,
            "width": 256,
        },
        # Supp. Tables 8, 9 and Fig. 3 (datasets are named by the config, never defaulted)
        "width": {"dataset": None, "widths": [64, 128, 256, 512]},
        "loss_weights": {
            "dataset": None,
            "alpha": [0, 1, 5, 10, 20],
            "beta": [0.05, 0.1, 0.15, 0.2, 0.5],
            "blinking_alpha": [0, 10],
        },
        "single_shot": [],
        # MAGIK-S at the paper's size (Methods, "Comparison with a supervised graph-based
        # clustering framework"): width 256, three attention layers with four heads
        "magik": {
            "datasets": [],
            "width": 256,
            "layers": 3,
            "heads": 4,
            "epochs": 30,
            "lr": 1e-4,
            "batch_size": 4,
            "threshold": 0.5,
        },
    },
    "apply": {
        "dataset": None,
        "input_dir": None,
        "format": "auto",
        "columns": None,
        "window_nm": None,
        "overlap_nm": None,
        "example": None,
    },
}


def _merge(base: dict, override: Mapping | None) -> dict:
    """Recursive dict update that ignores ``None`` overrides (``None`` = keep the base value)."""
    out = copy.deepcopy(base)
    for key, value in (override or {}).items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        elif value is not None or key not in out:
            out[key] = copy.deepcopy(value)
    return out


def benchmark_row(folder: str, settings_csv: Path = BENCHMARK_SETTINGS) -> dict[str, Any]:
    """The reference settings of one benchmark folder as a dict."""
    table = pd.read_csv(settings_csv)
    rows = table[table["folder"] == folder]
    if rows.empty:
        raise ValueError(f"{settings_csv}: no settings for benchmark folder {folder!r}")
    return rows.iloc[0].to_dict()


def resolve_config(config: Mapping) -> dict[str, Any]:
    """Top-level settings with defaults filled in (the config must already be schema-valid)."""
    out = _merge(TOP_LEVEL, {k: v for k, v in config.items() if k in TOP_LEVEL})
    out["datasets"] = {name: dataset_settings(config, name) for name in config["datasets"]}
    return out


def dataset_settings(config: Mapping, name: str) -> dict[str, Any]:
    """Fully resolved settings of dataset ``name`` (see the module docstring for precedence)."""
    entry = config["datasets"][name]
    settings = copy.deepcopy(BUILTIN)
    settings["published_dbscan"] = None
    settings["train_fovs"] = None
    if entry["source"] == "benchmark":
        row = benchmark_row(entry["folder"])
        settings["model"]["steps"] = int(row["recurrent_steps"])
        settings["model"]["radius"] = float(row["connectivity_radius_normalized"])
        settings["augment"]["n_graphs"] = int(row["augmented_graphs"])
        settings["train_fovs"] = [int(v) for v in str(row["train_fovs"]).split()]
        settings["published_dbscan"] = {
            "eps": float(row["baseline_dbscan_eps_nm"]),
            "min_samples": int(row["baseline_dbscan_min_samples"]),
        }
    settings = _merge(settings, config.get("defaults"))
    settings = _merge(settings, entry.get("settings"))
    settings["source"] = entry["source"]
    settings["folder"] = entry.get("folder")
    settings["family"] = entry.get("family")
    settings["n_fovs"] = entry.get("n_fovs")
    settings["params"] = dict(entry.get("params") or {})
    settings["paper_name"] = entry.get("paper_name", entry.get("folder", name))
    settings["table1"] = entry.get("table1", True)
    baseline = settings["dbscan"]["baseline"]
    if baseline == "auto":
        baseline = "published" if settings["published_dbscan"] else "optuna"
    if baseline == "published" and not settings["published_dbscan"]:
        raise ValueError(
            f"dataset {name!r}: dbscan.baseline 'published' needs a benchmark folder "
            "(published parameters exist only for the benchmark)"
        )
    settings["dbscan"]["baseline"] = baseline
    if settings["train_fovs"] and settings["n_train"] != len(settings["train_fovs"]):
        settings["train_fovs"] = None  # another training size than the paper's: seeded choice
    return settings


def settings_slice(settings: Mapping, keys: Sequence[str]) -> dict[str, Any]:
    """The part of a resolved ``settings`` dict named by dotted ``keys`` (``"model.radius"``,
    ``"train"``), in the same nested layout: what one rule's script reads, and nothing else, so
    that changing any other setting does not re-run it."""
    out: dict[str, Any] = {}
    for key in keys:
        *parents, leaf = key.split(".")
        source, target = settings, out
        for name in parents:
            source, target = source[name], target.setdefault(name, {})
        target[leaf] = copy.deepcopy(source[leaf])
    return out


def execution_settings(config: Mapping) -> dict[str, Any]:
    """Settings that change how a job runs but not what it produces: the torch ``device`` and
    how the benchmark is reached (``benchmark``: local copy, base URL, retries; every file is
    verified against the manifest, so the data is the same either way). Scripts read them from
    the raw config; they are not rule params, so changing them re-runs nothing."""
    return {
        "device": config.get("device") or TOP_LEVEL["device"],
        "benchmark": _merge(TOP_LEVEL["benchmark"], config.get("benchmark")),
    }
