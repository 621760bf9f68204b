"""Figures: the paper's Fig. 2 panel for one dataset.

Fig. 2 (Results, "MIRO enhances DBSCAN performance"): the top row shows an
example test FOV clustered by DBSCAN, by MIRO + DBSCAN and the ground truth; the bottom row
shows ARI†, IoU, JI_c and RMSRE_N over the test FOVs (paired points and box-and-whisker plots,
whiskers at 1.5 IQR, outliers as empty circles) with the stars of the paired one-sided
Wilcoxon test. :func:`cluster_colors`, :func:`plot_fov`, :func:`metric_boxes` and the two rows
:func:`fov_row` and :func:`metric_row` are the building blocks other figures compose. Figures use
matplotlib's object API (no pyplot, so no display and no global state) and are saved atomically.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.colors import to_rgba, to_rgba_array
from matplotlib.figure import Figure, SubFigure
from mpl_toolkits.axes_grid1.anchored_artists import AnchoredSizeBar

from miro.files import atomic_path
from miro.outputs.tables import LATEX_LABELS

FIG2_METRICS = ("ARI_dagger", "IoU", "JI_c", "RMSRE_N")
"""Metrics of the bottom row of Fig. 2."""

FOV_PANELS = {"DBSCAN": "DBSCAN", "MIRO": "MIRO + DBSCAN", "Ground truth": "Ground truth"}
"""Keys of ``example["labels"]`` in Fig. 2's left-to-right order, with their panel titles."""

BOX_ORDER = ("DBSCAN", "MIRO")
METHOD_COLORS = {"DBSCAN": "#4c72b0", "MIRO": "#dd8452"}
METHOD_TICKS = {"DBSCAN": "DBSCAN", "MIRO": "MIRO +\nDBSCAN"}
NOISE_COLOR = "#b4b4b4"
CLUSTER_PALETTE = [c for i, c in enumerate(sns.color_palette("tab10")) if i != 7]
"""Categorical cluster colours: tab10 without its grey, which is kept for non-clustered points."""


def cluster_colors(labels: np.ndarray) -> np.ndarray:
    """RGBA colour per localization: label 0 (non-clustered) grey, clusters cycle the palette.

    Clusters are coloured by the rank of their label, so equal labels share a colour and
    consecutive labels differ.
    """
    labels = np.asarray(labels)
    clusters = np.unique(labels[labels != 0])
    palette = to_rgba_array(CLUSTER_PALETTE)
    colors = palette[np.searchsorted(clusters, labels) % len(palette)]
    colors[labels == 0] = to_rgba(NOISE_COLOR)
    return colors


def nice_length(span: float) -> float:
    """A 1-2-5 length near a quarter of ``span``, for the scale bar."""
    target = span / 4
    power = 10 ** math.floor(math.log10(target))
    return max(m * power for m in (1, 2, 5) if m * power <= target)


def plot_fov(ax: Axes, coords: np.ndarray, labels: np.ndarray, title: str) -> None:
    """Scatter one FOV (coordinates in nm) coloured by cluster, with a scale bar.

    Non-clustered localizations (label 0) are drawn small and grey under the clusters.
    """
    coords = np.asarray(coords, dtype=float)
    labels = np.asarray(labels)
    if coords.ndim != 2 or coords.shape[1] != 2 or len(coords) == 0:
        raise ValueError(f"plot_fov({title!r}): coords must be a non-empty (N, 2) array")
    if labels.shape != (len(coords),):
        raise ValueError(
            f"plot_fov({title!r}): {labels.shape} labels for {len(coords)} localizations"
        )
    noise = labels == 0
    ax.scatter(*coords[noise].T, s=1, c=NOISE_COLOR, linewidths=0, rasterized=True)
    ax.scatter(
        *coords[~noise].T, s=2, c=cluster_colors(labels)[~noise], linewidths=0, rasterized=True
    )
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title)
    span = np.ptp(coords, axis=0).max()
    if span > 0:
        length = nice_length(span)
        bar = AnchoredSizeBar(ax.transData, length, f"{length:g} nm", "lower right", pad=0.3)
        bar.patch.set(facecolor="white", alpha=0.8, edgecolor="none")
        ax.add_artist(bar)


def metric_boxes(
    ax: Axes, long_df: pd.DataFrame, metric: str, stats_row: Mapping | None = None
) -> None:
    """Paired points (one line per FOV) and box plots of ``metric``, DBSCAN vs MIRO + DBSCAN.

    ``long_df`` holds one dataset's metrics (columns ``fov, method, metric, value``); FOVs scored
    by both methods are drawn. ``stats_row`` (a row of the statistics table for this metric)
    adds its Wilcoxon stars ("ns" when empty) above the pair.
    """
    data = long_df[long_df["metric"] == metric]
    if data.empty:
        raise ValueError(f"metric_boxes: no values for metric {metric!r}")
    if data["dataset"].nunique() != 1:
        raise ValueError(
            f"metric_boxes: expected one dataset, got {list(data['dataset'].unique())}"
        )
    paired = data.pivot(index="fov", columns="method", values="value")
    missing = [m for m in BOX_ORDER if m not in paired.columns]
    if missing:
        raise ValueError(f"metric_boxes: metric {metric!r} has no values for methods {missing}")
    paired = paired[list(BOX_ORDER)].astype(float).dropna()
    ax.set_title(LATEX_LABELS[metric])
    if paired.empty:  # e.g. RMSRE_N when no cluster was paired: say so instead of failing
        ax.text(
            0.5,
            0.5,
            "no FOV with values\nfor both methods",
            ha="center",
            va="center",
            transform=ax.transAxes,
            color="0.4",
        )
        ax.set_xticks(range(len(BOX_ORDER)), [METHOD_TICKS[m] for m in BOX_ORDER])
        return

    jitter = np.random.default_rng(0).uniform(-0.1, 0.1, size=paired.shape)
    x = np.arange(len(BOX_ORDER)) + jitter
    y = paired.to_numpy()
    ax.plot(x.T, y.T, color="0.6", linewidth=0.4, alpha=0.6, zorder=1)
    for i, method in enumerate(BOX_ORDER):
        color = METHOD_COLORS[method]
        line = {"color": color, "linewidth": 1}
        ax.boxplot(
            y[:, i],
            positions=[i],
            widths=0.5,
            boxprops=line,
            whiskerprops=line,
            capprops=line,
            medianprops=line,
            flierprops={"marker": "o", "markerfacecolor": "none", "markeredgecolor": color},
        )
        ax.scatter(x[:, i], y[:, i], s=9, color=color, alpha=0.8, zorder=3)
    ax.set_xticks(range(len(BOX_ORDER)), [METHOD_TICKS[m] for m in BOX_ORDER])
    sns.despine(ax=ax)

    if stats_row is not None:
        if stats_row["metric"] != metric:
            raise ValueError(
                f"metric_boxes: stats row is for {stats_row['metric']!r}, not {metric!r}"
            )
        stars = stats_row["stars"] if isinstance(stats_row["stars"], str) else ""
        low, high = np.nanmin(y), np.nanmax(y)
        step = (high - low) * 0.08 or 0.05 * max(abs(high), 1)
        top = high + step
        ax.plot([0, 0, 1, 1], [top - step / 3, top, top, top - step / 3], color="black", lw=0.8)
        ax.text(0.5, top, stars or "ns", ha="center", va="bottom")
        ax.set_ylim(top=top + 2.5 * step)


def stats_row(stats_df: pd.DataFrame, dataset: str, metric: str) -> pd.Series:
    """The one row of the statistics table for ``dataset`` and ``metric``."""
    rows = stats_df[(stats_df["dataset"] == dataset) & (stats_df["metric"] == metric)]
    if len(rows) != 1:
        raise ValueError(
            f"statistics table: expected one row for dataset {dataset!r}, metric {metric!r}, "
            f"found {len(rows)}"
        )
    return rows.iloc[0]


def fov_row(fig: Figure | SubFigure, example: Mapping, title: str) -> None:
    """Fig. 2's top row on ``fig``: ``example["coords"]`` clustered by each of
    :data:`FOV_PANELS` (``example["labels"]``), under ``title``."""
    for ax, (key, panel) in zip(fig.subplots(1, 3), FOV_PANELS.items(), strict=True):
        plot_fov(ax, example["coords"], example["labels"][key], panel)
    fig.suptitle(title)


def metric_row(
    axes: Sequence[Axes], long_df: pd.DataFrame, stats_df: pd.DataFrame, dataset: str
) -> None:
    """Fig. 2's bottom row on ``axes``: :func:`metric_boxes` of :data:`FIG2_METRICS` of
    ``dataset`` (rows of the long metrics table) with the stars of its statistics rows."""
    data = long_df[long_df["dataset"] == dataset]
    if data.empty:
        raise ValueError(
            f"no metrics for dataset {dataset!r}: not in the metrics table "
            f"{list(long_df['dataset'].unique())}"
        )
    rows = [stats_row(stats_df, dataset, metric) for metric in FIG2_METRICS]
    for ax, metric, row in zip(axes, FIG2_METRICS, rows, strict=True):
        metric_boxes(ax, data, metric, row)


def save_figure(fig: Figure, path: str | os.PathLike, dpi: int = 150) -> None:
    """Save atomically; the format follows the suffix; PDFs carry no timestamp (reproducible)."""
    fmt = os.fspath(path).rsplit(".", 1)[-1].lower()
    metadata = {"CreationDate": None} if fmt == "pdf" else None
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=fmt, dpi=dpi, metadata=metadata)


def fig2(
    example: Mapping,
    long_df: pd.DataFrame,
    stats_df: pd.DataFrame,
    dataset: str,
    out_png: str | os.PathLike,
    out_pdf: str | os.PathLike,
) -> None:
    """Fig. 2-style panel for ``dataset``, saved as PNG (150 dpi) and PDF.

    ``example = {"coords": (N, 2) nm, "labels": {"DBSCAN": ..., "MIRO": ..., "Ground truth":
    ...}}`` (optional ``"fov"``: its number, shown in the title); ``long_df`` is the long metrics
    table and ``stats_df`` the statistics table of ``miro.evaluation.stats.paired_tests``.
    """
    missing = [k for k in FOV_PANELS if k not in example.get("labels", {})]
    if "coords" not in example or missing:
        raise ValueError(f"fig2 example needs 'coords' and labels for {list(FOV_PANELS)}")
    fig = Figure(figsize=(10, 6.6), layout="constrained")
    top, bottom = fig.subfigures(2, 1, height_ratios=[1.2, 1])
    fov = example.get("fov")
    fov_row(top, example, dataset if fov is None else f"{dataset}: test FOV {fov}")
    metric_row(bottom.subplots(1, 4), long_df, stats_df, dataset)
    save_figure(fig, out_png)
    save_figure(fig, out_pdf)
