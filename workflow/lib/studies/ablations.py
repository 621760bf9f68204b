"""Ablations (paper Methods, "Ablation study and hyperparameter selection").

- Recurrent steps (Supp. Fig. 2, "Number of recurrent steps: influence on performance and
  oversmoothing"): MIRO and a conventional message-passing GNN (`miro.core.mpnn.MPNN`) of the same
  depth, trained on Scenario 6 with blinking, compared on test FOVs by the compression index
  and the Dirichlet energy of the final node features (`miro.evaluation.metrics`).
- Hidden width (Supp. Table 8, "Dimensionality of the hidden representation") and loss weights
  (Supp. Table 9, "Loss function weights": alpha of L_d, Eq. 4, and beta of L_class): a
  dataset's MIRO retrained with one setting changed (a *variant*), each evaluated as the main
  pipeline evaluates the dataset (`evaluate_on_dataset`).
- alpha on blinking data (Supp. Fig. 3): MIRO of the recurrent-steps ablation trained at other
  alpha values, compression index against depth.
- Hyper-parameters (Supp. Table 7): the settings of every trained or imported model, read from
  its checkpoint (never typed).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd
import torch
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from miro.config import TOP_LEVEL, benchmark_row, dataset_settings
from miro.core.checkpoint import Checkpoint, parameter_count
from miro.core.graph import fov_graph
from miro.core.model import MIRO, resolve_device
from miro.core.mpnn import MPNN
from miro.evaluation.metrics import (
    METRICS,
    compression_index,
    dirichlet_energy,
)
from miro.files import write_csv_atomic, write_text_atomic
from miro.outputs.figures import save_figure
from miro.outputs.tables import LABELS, RMSE_NOTE, format_pm, markdown_table, md_escape
from miro.studies.shapes import macro_f1, shape_names

ABLATION_FOLDER = "Multiple Blinking - Scenario 6"
"""The benchmark folder the paper's recurrent-steps ablation uses (scenario, blinking, radius)."""
STEPS_DATASET = "ablation-steps"  # the data rules' dataset name of the steps ablation's data
N_TRAIN = 3  # training FOVs per benchmark scenario (Methods, "MIRO training and augmentations")
STEPS_METRICS = ("compression_index", "dirichlet_energy")
STEPS_COLUMNS = ("architecture", "depth", "repeat", *STEPS_METRICS)
ALPHA_BLINKING_COLUMNS = ("alpha", "depth", "repeat", *STEPS_METRICS)
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
VARIANT_RUN = "w{width}_a{alpha}_b{beta}"
"""Name of one variant of a dataset's MIRO: its hidden width and loss weights alpha, beta."""
STEPS_RUN = "{arch}_a{alpha}_L{depth}_r{repeat}"
"""Name of one network of the recurrent-steps ablation."""
VARIANT_SETTINGS = ("width", "alpha", "beta")
VARIANT_TITLES = {
    "width": "Supplementary Table 8. Hidden width of MIRO",
    "loss_weights": "Supplementary Table 9. Loss weights α (L_d) and β (L_class) of MIRO",
}
KEY_LABELS = {"width": "Width", "weight": "Weight", "value": "Value"}
WEIGHT_LABELS = {"alpha": "α", "beta": "β"}


# ------------------------------------------------------------------------- configuration
def ablation_targets(config: Mapping, results: str = "results") -> list[str]:
    """Final files of the ablations for rules all and ablations, from ``config`` (the raw
    config): the hyper-parameter table always; each ablation's table (and figure) when its key
    is in the ``ablations`` section: ``steps``, ``width``, ``loss_weights`` (alpha or beta
    values given), alpha on blinking data (``steps`` and ``loss_weights`` with
    ``blinking_alpha`` values), ``single_shot`` (a non-empty list) and ``magik``. Keys left out
    of a section take the defaults of `miro.config.TOP_LEVEL`."""
    sections = config.get("ablations") or {}
    files = [f"{results}/tables/hyperparameters.{ext}" for ext in ("csv", "md")]
    if "steps" in sections:
        files += steps_targets(results)
    if "width" in sections:
        files += [f"{results}/ablations/width.{ext}" for ext in ("csv", "md")]
    if "loss_weights" in sections:
        weights = TOP_LEVEL["ablations"]["loss_weights"] | sections["loss_weights"]
        if weights["alpha"] or weights["beta"]:
            files += [f"{results}/ablations/loss_weights.{ext}" for ext in ("csv", "md")]
        if "steps" in sections and weights["blinking_alpha"]:
            files += [f"{results}/ablations/alpha_blinking.{ext}" for ext in ("csv", "png", "pdf")]
    if sections.get("single_shot"):
        files += [f"{results}/ablations/single_shot.{ext}" for ext in ("csv", "md", "tex")]
    if "magik" in sections:
        files += [f"{results}/ablations/magik.{ext}" for ext in ("csv", "md")]
    return files


def steps_targets(results: str = "results") -> list[str]:
    """Final files of the recurrent-steps ablation: its table and figure."""
    return [f"{results}/ablations/steps.{ext}" for ext in ("csv", "png", "pdf")]


def weight_name(value: float) -> str:
    """A loss weight as run names write it: the shortest text that reads back as the same float
    (``10``, ``0.15``, ``1e-05``)."""
    return repr(float(value)).removesuffix(".0")


def blinking_alphas(loss_weights: Mapping, steps_settings: Mapping) -> list[float]:
    """alpha values of Supp. Fig. 3: ``loss_weights["blinking_alpha"]`` and the alpha of the
    recurrent-steps ablation's own MIRO runs (``steps_settings``: `steps_data_settings`)."""
    return sorted(
        {float(a) for a in loss_weights["blinking_alpha"]} | {default_alpha(steps_settings)}
    )


def default_alpha(settings: Mapping) -> float:
    """The alpha of resolved dataset settings."""
    return float(settings["train"]["alpha"])


def variant_run(settings: Mapping, **changes: float) -> str:
    """`VARIANT_RUN` name of a dataset's MIRO (``settings``: its resolved settings) with some
    of width, alpha, beta changed; equal settings give equal names, so a variant requested by
    two ablations (e.g. the dataset's own width and alpha) is trained once."""
    unknown = set(changes) - set(VARIANT_SETTINGS)
    if unknown:
        raise ValueError(f"variants change only {VARIANT_SETTINGS}, not {sorted(unknown)}")
    values = {
        "width": settings["model"]["width"],
        "alpha": settings["train"]["alpha"],
        "beta": settings["train"]["beta"],
        **changes,
    }
    return VARIANT_RUN.format(
        width=int(values["width"]),
        alpha=weight_name(values["alpha"]),
        beta=weight_name(values["beta"]),
    )


def ablation_variants(settings: Mapping, ablation: str) -> list[tuple[dict, str]]:
    """(table key, run name) of every variant of ``ablation`` (``width``: `width_variants`,
    ``loss_weights``: `loss_weight_variants`) for resolved config ``settings``
    (`miro.config.resolve_config`); [] when its section names no dataset."""
    if ablation not in VARIANT_TITLES:
        raise ValueError(
            f"no variants for ablation {ablation!r}; choose from {list(VARIANT_TITLES)}"
        )
    section = settings["ablations"][ablation]
    if section["dataset"] is None:
        return []
    dataset = settings["datasets"][section["dataset"]]
    if ablation == "width":
        return width_variants(dataset, section["widths"])
    return loss_weight_variants(dataset, section["alpha"], section["beta"])


def width_variants(settings: Mapping, widths: Sequence[int]) -> list[tuple[dict, str]]:
    """Supp. Table 8: (table key, run name) of every width, the loss weights at ``settings``."""
    return [({"width": int(w)}, variant_run(settings, width=w)) for w in widths]


def loss_weight_variants(
    settings: Mapping, alpha: Sequence[float], beta: Sequence[float]
) -> list[tuple[dict, str]]:
    """Supp. Table 9: (table key, run name) of every alpha (beta at ``settings``), then of every
    beta (alpha at ``settings``), the width at ``settings``."""
    return [
        ({"weight": weight, "value": float(value)}, variant_run(settings, **{weight: value}))
        for weight, values in (("alpha", alpha), ("beta", beta))
        for value in values
    ]


def variant_training(settings: Mapping, key: Mapping) -> dict[str, float]:
    """`miro.core.training.config_from_settings` overrides of the variant with table ``key``
    (``{"width": w}`` or ``{"weight": "alpha" | "beta", "value": v}``) of a dataset (resolved
    ``settings``): width and alpha always, beta only when it differs from the dataset's (which
    `config_from_settings` drops to 0 for a model without a class head)."""
    changes = {key["weight"]: key["value"]} if "weight" in key else dict(key)
    overrides = {
        "width": int(changes.get("width", settings["model"]["width"])),
        "alpha": float(changes.get("alpha", settings["train"]["alpha"])),
    }
    beta = float(changes.get("beta", settings["train"]["beta"]))
    if beta != float(settings["train"]["beta"]):
        overrides["beta"] = beta
    return overrides


def steps_runs(settings: Mapping, steps_data: Mapping) -> dict[str, tuple[dict, dict]]:
    """Networks of the recurrent-steps ablation (Supp. Fig. 2) and of alpha on blinking data
    (Supp. Fig. 3): run name -> (training overrides, labels), for MIRO and the MPNN at the
    default alpha and MIRO at every ``loss_weights.blinking_alpha``, every depth x repeat
    (seed = repeat). ``steps_data``: `steps_data_settings`."""
    steps = settings["ablations"]["steps"]
    alphas = {arch: [default_alpha(steps_data)] for arch in ARCHITECTURE_LABELS}
    alphas["miro"] = blinking_alphas(settings["ablations"]["loss_weights"], steps_data)
    runs = {}
    for arch, values in alphas.items():
        for alpha in values:
            for depth in steps["depths"]:
                for repeat in range(steps["repeats"]):
                    name = STEPS_RUN.format(
                        arch=arch, alpha=weight_name(alpha), depth=depth, repeat=repeat
                    )
                    train = {"architecture": arch, "steps": depth, "seed": repeat, "alpha": alpha}
                    labels = {"architecture": arch, "alpha": alpha, "depth": depth}
                    runs[name] = (train, labels | {"repeat": repeat})
    return runs


def steps_data_settings(steps: Mapping) -> dict:
    """Resolved dataset settings (`miro.config.dataset_settings`) of the recurrent-steps
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
            "augment": {"n_graphs": steps["n_graphs"]},
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
    Each FOV is squeezed as in `miro.core.squeeze` (``pos - r * ŷ`` of the last step, back in nm);
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


def collect_runs(runs: Sequence[pd.DataFrame], columns: Sequence[str]) -> pd.DataFrame:
    """One table of per-network rows (the steps_ablation_evaluate outputs): ``columns``, sorted
    by the first three (group, depth, repeat)."""
    table = pd.concat(list(runs), ignore_index=True)
    missing = sorted(set(columns) - set(table.columns))
    if missing:
        raise ValueError(f"ablation runs lack columns {missing}")
    return table[list(columns)].sort_values(list(columns[:3]), ignore_index=True)


def plot_steps_ablation(
    steps_df: pd.DataFrame, out_png: str | os.PathLike, out_pdf: str | os.PathLike
) -> None:
    """Supp. Fig. 2: compression index (a) and Dirichlet energy (b, log scale) against depth,
    mean ± sd over repeats, one line per architecture; saved as PNG and PDF."""
    _plot_against_depth(
        steps_df,
        "architecture",
        STEPS_METRICS,
        lambda architecture: ARCHITECTURE_LABELS.get(architecture, architecture),
        out_png,
        out_pdf,
    )


def plot_alpha_blinking(
    alpha_df: pd.DataFrame,
    out_png: str | os.PathLike,
    out_pdf: str | os.PathLike,
    default: float | None = None,
) -> None:
    """Supp. Fig. 3: compression index of MIRO on blinking data against depth, mean ± sd over
    repeats, one line per alpha (``default``: the alpha of the recurrent-steps runs, marked in
    the legend); saved as PNG and PDF."""

    def label(alpha: float) -> str:
        return f"α = {alpha:g}" + (" (steps ablation)" if alpha == default else "")

    _plot_against_depth(alpha_df, "alpha", STEPS_METRICS[:1], label, out_png, out_pdf)


def _plot_against_depth(
    table: pd.DataFrame,
    by: str,
    metrics: Sequence[str],
    label: Callable[[object], str],
    out_png: str | os.PathLike,
    out_pdf: str | os.PathLike,
) -> None:
    """One panel per metric against depth, mean ± sd over repeats, one line per ``by`` value
    (the Dirichlet energy on a log scale)."""
    missing = sorted({by, "depth", *metrics} - set(table.columns))
    if missing or table.empty:
        raise ValueError(f"depth ablation table is empty or lacks columns {missing}")
    fig = Figure(figsize=(max(5.0, 4.0 * len(metrics)), 3.4), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(metrics)))
    for ax, metric, letter in zip(axes, metrics, "abcdef", strict=False):
        for value, group in table.groupby(by, sort=True):
            stats = group.groupby("depth")[metric].agg(["mean", "std"]).sort_index()
            ax.errorbar(
                stats.index,
                stats["mean"],
                yerr=stats["std"].fillna(0.0),
                marker="o",
                capsize=3,
                label=label(value),
            )
        ax.set_xlabel("Depth (recurrent steps / layers)")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(metric.replace("_", " ").capitalize())
        if metric == "dirichlet_energy":
            ax.set_yscale("log")
        if len(metrics) > 1:
            ax.set_title(letter, loc="left", fontweight="bold")
    axes[0].legend(frameon=False)
    save_figure(fig, out_png)
    save_figure(fig, out_pdf)


# --------------------------------------------------- width and loss weights (Supp. Tables 8, 9)
def class_names(settings: Mapping) -> list[str]:
    """Shape classes 1..C of a dataset's class head (resolved ``settings``): those of a
    ``multishape`` simulation (`miro.studies.shapes.shape_names`), none for other families."""
    return shape_names(settings["params"]) if settings["family"] == "multishape" else []


def variant_summary(
    metrics: pd.DataFrame,
    checkpoint: Checkpoint,
    dbscan: Mapping,
    confusion: pd.DataFrame | None = None,
) -> dict[str, float]:
    """One row of Supp. Tables 8 / 9 for a variant, from its run's outputs: the per-FOV
    ``metrics`` (long, method MIRO), its ``checkpoint``, its tuned ``dbscan`` parameters and,
    with a class head, its ``confusion`` table (`miro.studies.shapes.confusion_table`).

    The row holds the width, alpha and beta as trained, the number of test FOVs ``n``, mean and
    sample sd (``<metric>_sd``) of every Table 1 metric over them, with a class head the macro
    F1 (``F1``) and per-class F1 (``F1_<shape>``), the trainable ``parameters``, the training
    time ``train_seconds`` and the DBSCAN ``eps``, ``min_samples``."""
    train = checkpoint.train
    wide = metrics[metrics["method"] == "MIRO"].pivot(index="fov", columns="metric", values="value")
    wide = wide.apply(pd.to_numeric)
    row = {"width": checkpoint.model.width, "alpha": train["alpha"], "beta": train["beta"]}
    row["n"] = len(wide)
    for metric in METRICS:
        row[metric] = float(wide[metric].mean())
        row[f"{metric}_sd"] = float(wide[metric].std(ddof=1))
    if confusion is not None:
        row["F1"] = macro_f1(confusion)
        row |= {f"F1_{name}": float(f1) for name, f1 in confusion["F1"].items()}
    row["parameters"] = parameter_count(checkpoint.model)
    row["train_seconds"] = checkpoint.train_seconds
    row["eps"], row["min_samples"] = dbscan["eps"], dbscan["min_samples"]
    return row


def variant_table(keys: Sequence[Mapping], summaries: Sequence[Mapping]) -> pd.DataFrame:
    """Supp. Table 8 / 9: one row per requested variant, its key (``width``, or ``weight`` and
    ``value``) followed by its `variant_summary` without the trained settings."""
    if len(keys) != len(summaries) or not keys:
        raise ValueError(f"{len(keys)} variant keys for {len(summaries)} summaries")
    rows = [
        {**key, **{k: v for k, v in summary.items() if k not in VARIANT_SETTINGS}}
        for key, summary in zip(keys, summaries, strict=True)
    ]
    return pd.DataFrame(rows)


def write_variant_table(
    table: pd.DataFrame,
    csv_path: str | os.PathLike,
    md_path: str | os.PathLike,
    *,
    ablation: str,
    dataset: str,
    preset: str = "unspecified",
) -> None:
    """Write `variant_table` as CSV (numbers) and Markdown (``mean ± sd`` over the test FOVs,
    F1, parameters, training time), titled by ``ablation`` (a key of `VARIANT_TITLES`)."""
    keys = [c for c in KEY_LABELS if c in table.columns]
    scores = [c for c in table.columns if c.startswith("F1")]
    missing = [c for c in ("n", *METRICS, "parameters", "train_seconds") if c not in table]
    if not keys or missing:
        raise ValueError(f"variant table lacks key columns {list(KEY_LABELS)} or {missing}")
    write_csv_atomic(table, csv_path)
    header = [KEY_LABELS[k] for k in keys] + ["n", *(LABELS[m] for m in METRICS)]
    header += [s.replace("_", " ") for s in scores] + ["Parameters", "Training (s)"]
    rows = [
        [
            *(WEIGHT_LABELS.get(rec[k], rec[k]) if k == "weight" else f"{rec[k]:g}" for k in keys),
            str(rec["n"]),
            *(format_pm(rec[m], rec[f"{m}_sd"]) for m in METRICS),
            *(f"{rec[s]:.2f}" for s in scores),
            str(rec["parameters"]),
            f"{rec['train_seconds']:.1f}",
        ]
        for rec in table.to_dict("records")
    ]
    title = (
        f"{VARIANT_TITLES[ablation]} on {dataset}: clustering metrics mean ± sd over the test "
        f"FOVs, DBSCAN tuned per model (preset: {preset})."
    )
    write_text_atomic(
        md_path, f"**{title}**\n\n" + markdown_table(header, rows) + f"\n{md_escape(RMSE_NOTE)}\n"
    )


# ----------------------------------------------------------- hyper-parameters (Supp. Table 7)
def hyperparameter_table(checkpoints: Mapping[str, Checkpoint]) -> pd.DataFrame:
    """Supp. Table 7: one row per model, from checkpoints by dataset name.

    Training settings are those the checkpoint recorded (for imported published models only
    k_star, the others empty), ``n_graphs`` the number of training graphs when recorded,
    ``parameters`` the trainable parameters of the stored architecture and settings.
    """
    rows = []
    for dataset, checkpoint in checkpoints.items():
        train = checkpoint.train
        rows.append(
            {
                "dataset": dataset,
                "source": train.get("source", "trained"),
                "architecture": checkpoint.architecture,
                "width": checkpoint.model.width,
                "steps": checkpoint.model.steps,
                "radius": checkpoint.radius,
                **{key: train.get(key) for key in TRAIN_SETTINGS},
                "n_graphs": checkpoint.n_graphs,
                "parameters": parameter_count(checkpoint.model),
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
    write_text_atomic(md_path, title + markdown_table(list(table.columns), rows))
