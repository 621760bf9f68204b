"""Ablations (paper Methods, "Ablation study and hyperparameter selection").

- Recurrent steps (Supp. Fig. 2, "Number of recurrent steps: influence on performance and
  oversmoothing"): MIRO and a conventional message-passing GNN (`miro.mpnn.MPNN`) of the same
  depth, trained on Scenario 6 with blinking, compared on test FOVs by the compression index
  and the Dirichlet energy of the final node features (`miro.metrics`).
- Hyper-parameters (Supp. Table 7): the settings of every trained or imported model, read from
  its checkpoint (never typed).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import torch
from matplotlib.figure import Figure

from miro.graph import fov_graph
from miro.io import write_csv_atomic
from miro.metrics import compression_index, dirichlet_energy
from miro.model import MIRO, resolve_device
from miro.mpnn import MPNN
from miro.plots import save_figure
from miro.settings import benchmark_row, dataset_settings
from miro.tables import _markdown, _write_text
from miro.train import build_model

ABLATION_FOLDER = "Multiple Blinking - Scenario 6"
"""The benchmark folder the paper's recurrent-steps ablation uses (scenario, blinking, radius)."""
N_TRAIN = 3  # training FOVs, as for every benchmark scenario (Methods, "MIRO training")
GRAPHS_PER_CHUNK = 250  # augmentation jobs of the steps ablation
STEPS_METRICS = ("compression_index", "dirichlet_energy")
STEPS_COLUMNS = ("architecture", "depth", "repeat", *STEPS_METRICS)
ARCHITECTURE_LABELS = {"miro": "MIRO (recurrent)", "mpnn": "MPNN (layers + skip connections)"}
TRAIN_SETTINGS = ("alpha", "beta", "k_star", "lr", "batch_size", "epochs")
HYPERPARAMETER_COLUMNS = (
    "dataset",
    "source",
    "architecture",
    "width",
    "steps",
    "radius",
    *TRAIN_SETTINGS,
    "n_graphs",
    "parameters",
)
INTEGER_COLUMNS = ("width", "steps", "k_star", "batch_size", "epochs", "n_graphs", "parameters")


def ablation_targets(config: Mapping, results: str = "results") -> list[str]:
    """Final files of the ablations for rule all: the hyper-parameter table always, the
    recurrent-steps table and figure when ``config`` (the raw config) has an ``ablations``
    section (its defaults are the paper's full-size study)."""
    files = [f"{results}/tables/hyperparameters.{ext}" for ext in ("csv", "md")]
    return files + steps_targets(results) if "ablations" in config else files


def steps_targets(results: str = "results") -> list[str]:
    """Final files of the recurrent-steps ablation: its table and figure."""
    return [f"{results}/ablations/steps.{ext}" for ext in ("csv", "png", "pdf")]


def steps_data_settings(steps: Mapping) -> dict:
    """Resolved dataset settings (`miro.settings.dataset_settings`) of the recurrent-steps
    ablation's data, for the data rules: ``steps["n_fovs"]`` simulated FOVs of Scenario 6 with
    blinking, `N_TRAIN` of them for training, ``steps["n_graphs"]`` augmented graphs at the
    radius of `ABLATION_FOLDER`, the model width and epochs of ``steps``, the rest at the
    built-in (paper) settings whatever the config's ``defaults``.
    """
    row = benchmark_row(ABLATION_FOLDER)
    radius = float(row["connectivity_radius_normalized"])
    entry = {
        "source": "simulate",
        "family": "benchmark",
        "n_fovs": steps["n_fovs"],
        "params": {"scenario": int(row["scenario"]), "blinking": bool(row["blinking"])},
        "table1": False,
        "settings": {
            "n_train": N_TRAIN,
            "model": {"width": steps["width"], "radius": radius, "num_classes": 0},
            "augment": {
                "n_graphs": steps["n_graphs"],
                "chunks": math.ceil(steps["n_graphs"] / GRAPHS_PER_CHUNK),
            },
            "train": {"epochs": steps["epochs"]},
        },
    }
    return dataset_settings({"datasets": {"steps": entry}}, "steps")


def depth_ablation_metrics(
    model: MIRO | MPNN,
    fovs: Sequence[pd.DataFrame],
    radius: float,
    *,
    device: str | torch.device = "auto",
) -> dict[str, float]:
    """Compression index and Dirichlet energy of ``model`` on test FOVs, means over the FOVs.

    ``fovs``: frames with ``x``, ``y`` (nm) and ``index`` (ground-truth cluster, 0 = background).
    Each FOV is squeezed as in `miro.transform` (``pos - r * ŷ`` of the last step, back in nm);
    the compression index compares it with the ground-truth clusters (FOVs without a cluster
    are left out of its mean), the Dirichlet energy is that of the final hidden node features
    ``u`` over the graph's (directed) edges, divided by the number of nodes.
    """
    if not len(fovs):
        raise ValueError("depth_ablation_metrics: no test FOVs")
    device = resolve_device(device)
    model = model.to(device).eval()
    compression, energy = [], []
    with torch.inference_mode():
        for fov in fovs:
            coords, labels = fov[["x", "y"]].to_numpy(float), fov["index"].to_numpy()
            graph, norm = fov_graph(coords, radius)
            out = model(graph.x.to(device), graph.edge_index.to(device), graph.edge_attr.to(device))
            shift = radius * out.displacements[-1].cpu().double().numpy()
            squeezed = norm.inverse(norm.forward(coords) - shift)
            compression.append(compression_index(coords, squeezed, labels))
            energy.append(dirichlet_energy(out.hidden.cpu().numpy(), graph.edge_index.numpy()))
    compression = np.asarray(compression)
    finite = compression[np.isfinite(compression)]
    return {
        "compression_index": float(finite.mean()) if finite.size else float("nan"),
        "dirichlet_energy": float(np.mean(energy)),
    }


def plot_steps_ablation(
    steps_df: pd.DataFrame, out_png: str | os.PathLike, out_pdf: str | os.PathLike
) -> None:
    """Supp. Fig. 2: compression index (a) and Dirichlet energy (b, log scale) against depth,
    mean ± sd over repeats, one line per architecture; saved as PNG and PDF."""
    missing = sorted(set(STEPS_COLUMNS) - set(steps_df.columns))
    if missing or steps_df.empty:
        raise ValueError(f"steps ablation table is empty or lacks columns {missing}")
    fig = Figure(figsize=(8, 3.4), layout="constrained")
    axes = fig.subplots(1, 2)
    for ax, metric, letter in zip(axes, STEPS_METRICS, "ab", strict=True):
        for architecture, group in steps_df.groupby("architecture", sort=True):
            stats = group.groupby("depth")[metric].agg(["mean", "std"]).sort_index()
            ax.errorbar(
                stats.index,
                stats["mean"],
                yerr=stats["std"].fillna(0.0),
                marker="o",
                capsize=3,
                label=ARCHITECTURE_LABELS.get(architecture, architecture),
            )
        ax.set_xlabel("Depth (recurrent steps / layers)")
        ax.set_ylabel(metric.replace("_", " ").capitalize())
        ax.set_title(letter, loc="left", fontweight="bold")
    axes[1].set_yscale("log")
    axes[0].legend(frameon=False)
    save_figure(fig, out_png)
    save_figure(fig, out_pdf)


def hyperparameter_table(checkpoints: Mapping[str, Mapping]) -> pd.DataFrame:
    """Supp. Table 7: one row per model, from checkpoint payloads by dataset name (the
    dictionaries of `miro.train.load_checkpoint`).

    Training settings are those the checkpoint recorded (empty for imported published models),
    ``n_graphs`` the number of training graphs when recorded, ``parameters`` the trainable
    parameters of the stored architecture and settings.
    """
    rows = []
    for dataset, payload in checkpoints.items():
        missing = {"model", "graph"} - set(payload)
        if missing:
            raise ValueError(f"checkpoint of {dataset!r} lacks {sorted(missing)}")
        architecture = payload.get("architecture", "miro")
        train = payload.get("train") or {}
        with torch.device("meta"):  # shapes only, no weights allocated
            model = build_model(architecture, **payload["model"])
        rows.append(
            {
                "dataset": dataset,
                "source": train.get("source", "trained"),
                "architecture": architecture,
                "width": payload["model"]["width"],
                "steps": payload["model"]["steps"],
                "radius": payload["graph"]["radius"],
                **{key: train.get(key) for key in TRAIN_SETTINGS},
                "n_graphs": payload.get("n_graphs"),
                "parameters": sum(p.numel() for p in model.parameters() if p.requires_grad),
            }
        )
    table = pd.DataFrame(rows, columns=list(HYPERPARAMETER_COLUMNS))
    return table.astype(dict.fromkeys(INTEGER_COLUMNS, "Int64"))  # missing values stay empty


def write_hyperparameters(
    table: pd.DataFrame,
    csv_path: str | os.PathLike,
    md_path: str | os.PathLike,
    preset: str = "unspecified",
) -> None:
    """Write `hyperparameter_table` as CSV and as a Markdown table (empty cells as "–")."""
    write_csv_atomic(table, csv_path)
    rows = [
        ["–" if pd.isna(v) else f"{v:g}" if isinstance(v, float) else str(v) for v in rec]
        for rec in table.itertuples(index=False)
    ]
    title = f"**Supplementary Table 7. Hyper-parameters of each model (preset: {preset}).**\n\n"
    _write_text(md_path, title + _markdown(list(table.columns), rows))
