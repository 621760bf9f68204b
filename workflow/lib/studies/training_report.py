"""What the report shows of training: one loss-curve figure per trained model and a table of
all of them (paper Methods, "MIRO loss function" and "MIRO training and augmentations";
Supp. Table 6 for MAGIK-S).

Every trained model writes its losses per epoch (``losses.csv``):

- MIRO and the MPNN of the recurrent-steps ablation (`miro.core.training.LOSS_COLUMNS`): the
  mean over the epoch's mini-batches of the total loss ``L`` (Eq. 4) and of each term as it
  enters the total (`miro.core.losses.miro_loss`): ``L_r`` (Eq. 5), ``α·L_d`` (Eq. 6) and
  ``β·L_class`` (Eq. 7, 0 without a class head);
- MAGIK-S (`miro.studies.magik.LOSS_COLUMNS`): the binary cross-entropy of each stage, the
  stages trained one after the other for the same epochs.

Both files end with the epoch's wall time (``seconds``). The module sits in ``studies`` because it
reads the formats of both (``outputs`` imports nothing from ``studies``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from miro.core.training import LOSS_COLUMNS
from miro.studies.magik import LOSS_COLUMNS as MAGIK_LOSS_COLUMNS
from miro.studies.magik import NAME as MAGIK_NAME
from miro.studies.magik import STAGES

MIRO_CURVES = {
    "loss": "$L$, total (Eq. 4)",
    "L_r": "$L_r$, displacements (Eq. 5)",
    "L_d": r"$\alpha L_d$, edge lengths (Eq. 6)",
    "L_ce": r"$\beta L_{class}$, classes (Eq. 7)",
}
"""Curves of a MIRO (or MPNN) losses file: column -> legend label (the paper's names)."""
STAGE_CURVES = {
    stage: f"{MAGIK_NAME} stage {i}: {what} (BCE)"
    for i, (stage, what) in enumerate(zip(STAGES, ("localizations", "edges"), strict=True), 1)
}
"""Curves of a MAGIK-S losses file: stage -> legend label."""
SETTING_LABELS = {
    "architecture": "",
    "width": "width ",
    "steps": "steps ",
    "layers": "layers ",
    "heads": "heads ",
    "k_star": "k* ",
    "alpha": "α ",
    "beta": "β ",
    "lr": "Adam lr ",
    "schedule": "",
    "batch_size": "batch ",
    "seed": "seed ",
}
"""Training settings named in a figure's title, in this order, when the checkpoint records them."""
TRAINING_COLUMNS = (
    "dataset",
    "run",
    "epochs",
    "final_loss",
    "min_loss",
    "train_seconds",
    "n_graphs",
)


def read_losses(path: str | os.PathLike) -> pd.DataFrame:
    """A losses file, MIRO's or (with a ``stage`` column) MAGIK-S's, with its columns in file
    order; ValueError naming the file when it is unreadable, lacks a column, holds no epoch,
    a non-numeric value or an epoch that is not 1, 2, ... (per stage)."""
    try:
        table = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise ValueError(f"{path}: not a losses CSV ({err})") from err
    columns = MAGIK_LOSS_COLUMNS if "stage" in table.columns else LOSS_COLUMNS
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ValueError(f"{path}: not a losses file, missing columns {missing} of {columns}")
    table = table[list(columns)]
    if table.empty:
        raise ValueError(f"{path}: no epoch recorded")
    numbers = [c for c in columns if c != "stage"]
    for column in numbers:
        if not pd.api.types.is_numeric_dtype(table[column]):
            raise ValueError(f"{path}: column {column!r} holds non-numeric values")
    stages = table.groupby("stage", sort=False) if "stage" in columns else [(None, table)]
    for stage, rows in stages:
        if stage is not None and stage not in STAGES:
            raise ValueError(f"{path}: unknown stage {stage!r}, expected one of {STAGES}")
        if not np.array_equal(rows["epoch"].to_numpy(), np.arange(1, len(rows) + 1)):
            where = "" if stage is None else f" of {stage}"
            raise ValueError(f"{path}: the epochs{where} are not 1, 2, ..., {len(rows)}")
    return table


def loss_curves(losses: pd.DataFrame) -> pd.DataFrame:
    """The curves of a `read_losses` table, one column per curve (legend labels, the total
    first for MIRO, `MIRO_CURVES`; one per stage for MAGIK-S, `STAGE_CURVES`), indexed by epoch."""
    if "stage" in losses.columns:
        curves = losses.pivot(index="epoch", columns="stage", values="loss")
        return curves[[s for s in STAGE_CURVES if s in curves]].rename(columns=STAGE_CURVES)
    return losses.set_index("epoch")[list(MIRO_CURVES)].rename(columns=MIRO_CURVES)


def epoch_loss(losses: pd.DataFrame) -> pd.Series:
    """The total loss per epoch of a `read_losses` table: MIRO's ``L``; for MAGIK-S, the sum of
    the stages' losses at the same epoch."""
    return losses.groupby("epoch")["loss"].sum()


def settings_text(train: Mapping) -> str:
    """The `SETTING_LABELS` settings of a checkpoint's training record, as one line."""
    parts = [
        f"{label}{train[key]:g}" if isinstance(train[key], float) else f"{label}{train[key]}"
        for key, label in SETTING_LABELS.items()
        if train.get(key) is not None
    ]
    return ", ".join(parts)


def loss_figure(
    losses: pd.DataFrame,
    dataset: str,
    run: str,
    train: Mapping,
    n_graphs: int | None = None,
) -> Figure:
    """One model's loss per epoch and per term (`loss_curves`) on a log scale (save it with
    `miro.outputs.figures.save_figure`).

    The title names ``dataset`` and ``run``, the training settings of the checkpoint's record
    ``train`` (`settings_text`), the epochs, the training time (sum of the epoch times) and
    ``n_graphs``. Curves that are 0 at every epoch (β·L_class without a class head, α·L_d at
    α = 0) cannot be drawn on a log scale: a note names them.
    """
    curves = loss_curves(losses)
    drawn = [c for c in curves if (curves[c] > 0).any()]
    fig = Figure(figsize=(6.4, 4.4), layout="constrained")
    ax = fig.subplots()
    for column in drawn:
        width = 2.0 if column == MIRO_CURVES["loss"] else 1.2
        ax.plot(curves.index, curves[column], marker="o", markersize=3, lw=width, label=column)
    if drawn:
        ax.set_yscale("log")
        ax.legend(fontsize=8)
    zero = [c for c in curves if c not in drawn]
    if zero:
        note = "0 at every epoch, not drawn: " + ", ".join(zero)
        ax.text(0.01, 0.01, note, transform=ax.transAxes, fontsize=7, color="0.4", va="bottom")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss (mean over mini-batches)")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    epochs = curves.index.nunique()
    cost = f"{epochs} epoch{'s' * (epochs != 1)}, {losses['seconds'].sum():.1f} s training"
    if n_graphs is not None:
        cost += f", {n_graphs} graphs"
    ax.set_title(f"{settings_text(train)}\n{cost}", fontsize=8)
    fig.suptitle(f"{dataset} / {run}")
    return fig


def training_table(
    models: Iterable[tuple[str, str, pd.DataFrame, int | None]],
) -> pd.DataFrame:
    """One row per trained model (`TRAINING_COLUMNS`) from (dataset, run, `read_losses` table,
    training graphs or None): epochs, the total loss (`epoch_loss`) at the last epoch and its
    minimum, the training time (sum of the epoch times, every stage)."""
    rows = []
    for dataset, run, losses, n_graphs in models:
        total = epoch_loss(losses)
        rows.append(
            {
                "dataset": dataset,
                "run": run,
                "epochs": len(total),
                "final_loss": float(total.iloc[-1]),
                "min_loss": float(total.min()),
                "train_seconds": float(losses["seconds"].sum()),
                "n_graphs": n_graphs,
            }
        )
    table = pd.DataFrame(rows, columns=list(TRAINING_COLUMNS))
    return table.astype({"epochs": "Int64", "n_graphs": "Int64"})
