"""Figures of the experiments beyond Table 1, composed from the blocks of
:mod:`miro.outputs.figures`.

- :func:`fig3`: simultaneous clustering and classification of shapes (paper Fig. 3): an example
  FOV (MIRO + DBSCAN over the ground truth; left coloured by shape, then one panel per shape
  coloured by cluster), the confusion matrix with per-class F1, and ARI†, IoU, JI_c, RMSRE_N.
- :func:`fig5`: multiscale clustering (paper Fig. 5a-b): for rings and spots, an example FOV by
  DBSCAN, MIRO + DBSCAN and the ground truth, and the four metrics with Wilcoxon stars.
- :func:`fig4a`: JI_c of adjacent cluster pairs against their distance (paper Fig. 4a).
- :func:`landscape_figure`: DBSCAN's parameter landscape (paper Supp. Fig. 1), ARI† and JI_c
  over the eps x min_samples grid for DBSCAN and for MIRO + DBSCAN.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from miro.evaluation.landscape import LANDSCAPE_METRICS, TOLERANCE
from miro.outputs.figures import (
    FOV_PANELS,
    METHOD_COLORS,
    NOISE_COLOR,
    fov_row,
    metric_row,
    plot_fov,
    save_figure,
)
from miro.outputs.tables import LATEX_LABELS

CLASS_PALETTE = sns.color_palette("Dark2")
"""Shape colours (class c gets entry c - 1); none is grey, kept for non-clustered points."""


def plot_classes(
    ax: Axes, coords: np.ndarray, classes: np.ndarray, names: Sequence[str], title: str
) -> None:
    """Scatter one FOV coloured by shape class (1..C = ``names``; 0 grey), with a legend."""
    coords, classes = np.asarray(coords, dtype=float), np.asarray(classes)
    if classes.shape != (len(coords),):
        raise ValueError(f"plot_classes({title!r}): {classes.shape} classes, {len(coords)} points")
    if classes.max(initial=0) > len(names) or classes.min(initial=0) < 0:
        raise ValueError(f"plot_classes({title!r}): classes outside 0..{len(names)}")
    plot_fov(ax, coords, np.zeros(len(coords), dtype=int), title)  # grey points, scale bar
    for c, name in enumerate(names, start=1):
        rows = classes == c
        color = CLASS_PALETTE[(c - 1) % len(CLASS_PALETTE)]
        ax.scatter(*coords[rows].T, s=2, color=color, linewidths=0, rasterized=True, label=name)
    handles = [
        Line2D([], [], marker="o", linestyle="", color=CLASS_PALETTE[i % len(CLASS_PALETTE)])
        for i in range(len(names))
    ]
    ax.legend(handles, names, loc="upper right", fontsize=7, markerscale=0.8, framealpha=0.8)


def plot_confusion(ax: Axes, table: pd.DataFrame) -> None:
    """Heatmap of a confusion table (:func:`miro.studies.shapes.confusion_table`): cells coloured by
    the fraction of the row, annotated with the count; F1 per true class in the row labels."""
    names = [c for c in table.columns if c not in ("F1", "n")]
    counts = table[names].to_numpy(dtype=float)
    totals = counts.sum(axis=1, keepdims=True)
    fraction = np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)
    ax.imshow(fraction, cmap="Blues", vmin=0, vmax=1)
    for (i, j), n in np.ndenumerate(counts):
        color = "white" if fraction[i, j] > 0.6 else "black"
        ax.text(j, i, f"{fraction[i, j]:.2f}\n({n:.0f})", ha="center", va="center", color=color)
    f1 = [f"{name}\nF1 {v:.2f}" for name, v in zip(table.index, table["F1"], strict=True)]
    ax.set_xticks(range(len(names)), names)
    ax.set_yticks(range(len(names)), f1)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title("paired clusters")


def fig3(
    example: Mapping,
    confusion: pd.DataFrame,
    long_df: pd.DataFrame,
    stats_df: pd.DataFrame,
    dataset: str,
    out_png: str | os.PathLike,
    out_pdf: str | os.PathLike,
) -> None:
    """Fig. 3 panel of one shape mixture, saved as PNG and PDF.

    ``example``: ``coords`` (N, 2) nm, ``names`` (shape names of classes 1..C), ``fov`` and, for
    ``"MIRO"`` and ``"Ground truth"``, a pair ``(cluster labels, cluster classes)`` per
    localization. ``confusion``: :func:`miro.studies.shapes.confusion_table`; ``long_df`` /
    ``stats_df``: the dataset's metrics and :func:`miro.evaluation.stats.paired_tests`.
    """
    names = list(example["names"])
    fig = Figure(figsize=(3.0 * (len(names) + 1) + 1, 11), layout="constrained")
    top, bottom = fig.subfigures(2, 1, height_ratios=[2, 1])
    rows = top.subplots(2, len(names) + 1, squeeze=False)
    for axes, key in zip(rows, ("MIRO", "Ground truth"), strict=True):
        labels, classes = (np.asarray(a) for a in example["labels"][key])
        title = FOV_PANELS[key]
        plot_classes(axes[0], example["coords"], classes, names, f"{title}: shapes")
        for c, (ax, name) in enumerate(zip(axes[1:], names, strict=True), start=1):
            plot_fov(ax, example["coords"], np.where(classes == c, labels, 0), f"{title}: {name}")
    top.suptitle(f"{dataset}: test FOV {example['fov']}")
    axes = bottom.subplots(1, 5, width_ratios=[1.6, 1, 1, 1, 1])
    plot_confusion(axes[0], confusion)
    metric_row(axes[1:], long_df, stats_df, dataset)
    save_figure(fig, out_png)
    save_figure(fig, out_pdf)


def fig5(
    examples: Mapping[str, Mapping],
    long_df: pd.DataFrame,
    stats_df: pd.DataFrame,
    datasets: Mapping[str, str],
    title: str,
    out_png: str | os.PathLike,
    out_pdf: str | os.PathLike,
) -> None:
    """Fig. 5a-b panel: per level (``examples`` and ``datasets`` keyed by level, in order), an
    example FOV (``coords`` and labels for "DBSCAN", "MIRO", "Ground truth") and the metric box
    plots of that level's dataset name in ``long_df`` / ``stats_df``."""
    fig = Figure(figsize=(10, 6.6 * len(examples)), layout="constrained")
    for sub, (level, example) in zip(
        fig.subfigures(len(examples), 1), examples.items(), strict=True
    ):
        upper, lower = sub.subfigures(2, 1, height_ratios=[1.2, 1])
        fov_row(upper, example, f"{title}, {level}: test FOV {example['fov']}")
        metric_row(lower.subplots(1, 4), long_df, stats_df, datasets[level])
    save_figure(fig, out_png)
    save_figure(fig, out_pdf)


def fig4a(
    scan: pd.DataFrame,
    summary: pd.DataFrame,
    title: str,
    out_png: str | os.PathLike,
    out_pdf: str | os.PathLike,
) -> None:
    """JI_c against pair distance (units of sigma): per method the FOVs (points), mean (line)
    and mean ± sd (band); Wilcoxon stars of MIRO + DBSCAN vs DBSCAN above each distance."""
    fig = Figure(figsize=(6, 4), layout="constrained")
    ax = fig.subplots()
    jitter = np.random.default_rng(0)
    step = np.diff(np.unique(scan["distance"])).min(initial=1.0)
    for method, label in (("DBSCAN", "DBSCAN"), ("MIRO", "MIRO + DBSCAN")):
        color = METHOD_COLORS[method]
        points = scan[scan["method"] == method]
        x = points["distance"] + jitter.uniform(-0.08, 0.08, len(points)) * step
        ax.scatter(x, points["JI_c"], s=6, color=color, alpha=0.35, linewidths=0)
        mean, sd = summary[f"{method}_mean"], summary[f"{method}_sd"].fillna(0)
        ax.plot(summary["distance"], mean, "o-", color=color, label=label)
        ax.fill_between(summary["distance"], mean - sd, mean + sd, color=color, alpha=0.2)
    for distance, star in zip(summary["distance"], summary["stars"], strict=True):
        ax.text(distance, 1.04, star, ha="center", va="bottom", fontsize=7, color="0.2")
    ax.set_ylim(-0.02, 1.12)
    ax.set_xlabel("pair distance / σ")
    ax.set_ylabel("JI$_c$")
    ax.set_title(title)
    ax.axhline(1, color=NOISE_COLOR, linewidth=0.6, zorder=0)
    ax.legend(loc="lower right", frameon=False)
    sns.despine(ax=ax)
    save_figure(fig, out_png)
    save_figure(fig, out_pdf)


LANDSCAPE_TITLES = {"DBSCAN": "DBSCAN", "MIRO": "MIRO + DBSCAN"}
"""Methods of a landscape figure, left to right, with their column titles."""


def _edges(values: np.ndarray, log: bool) -> np.ndarray:
    """Cell edges half-way between grid values (in log10 for ``log``), as wide at the ends; a
    single value gets a cell of width 1 (one decade for ``log``)."""
    v = np.log10(values) if log else values.astype(float)
    if len(v) == 1:
        edges = v[0] + np.array([-0.5, 0.5])
    else:
        mid = (v[1:] + v[:-1]) / 2
        edges = np.concatenate([[2 * v[0] - mid[0]], mid, [2 * v[-1] - mid[-1]]])
    return 10**edges if log else edges


def landscape_figure(table: pd.DataFrame, title: str, out_png: str | os.PathLike) -> None:
    """Supp. Fig. 1-style panel from a landscape table (`miro.evaluation.landscape.landscape`
    of each method): one row per metric (ARI†, JI_c), one column per method (DBSCAN, MIRO +
    DBSCAN), heatmaps over log eps x min_samples sharing each metric's colour scale (0 to 1,
    lower values in the lowest colour); the
    contour encloses the cells within the tolerance of the method's best (over the cells and
    the chosen parameters), a circle marks the best cell and a star the chosen parameters (the
    ones the run used)."""
    methods = [m for m in LANDSCAPE_TITLES if m in set(table["method"])]
    if not methods:
        raise ValueError(f"landscape figure {title!r}: no method of {list(LANDSCAPE_TITLES)}")
    fig = Figure(figsize=(4.6 * len(methods), 7.4), layout="constrained")
    axes = fig.subplots(len(LANDSCAPE_METRICS), len(methods), squeeze=False)
    for row, metric in zip(axes, LANDSCAPE_METRICS, strict=True):
        grids = {}
        for method in methods:
            rows = table[(table["method"] == method) & (table["kind"] == "grid")]
            grids[method] = rows.pivot(index="min_samples", columns="eps", values=metric)
        below = any(float(np.nanmin(g.to_numpy())) < 0 for g in grids.values())
        for ax, method in zip(row, methods, strict=True):
            grid, label = grids[method], LATEX_LABELS[metric]
            eps, min_samples = grid.columns.to_numpy(float), grid.index.to_numpy(float)
            scores = grid.to_numpy(float)
            mesh = ax.pcolormesh(
                _edges(eps, log=True),
                _edges(min_samples, log=False),
                scores,
                vmin=0.0,
                vmax=1.0,
                cmap="viridis",
                shading="flat",
            )
            chosen = table[(table["method"] == method) & (table["kind"] == "chosen")].iloc[0]
            best = max(np.nanmax(scores), chosen[metric])  # as miro.evaluation.landscape.summary
            if np.nanmin(scores) < best - TOLERANCE < np.nanmax(scores):
                ax.contour(
                    eps,
                    min_samples,
                    scores,
                    levels=[best - TOLERANCE],
                    colors="white",
                    linewidths=1,
                )
            i, j = np.unravel_index(np.nanargmax(scores), scores.shape)
            ax.plot(eps[j], min_samples[i], "o", mfc="none", mec="white", ms=9, mew=1.5)
            ax.plot(chosen["eps"], chosen["min_samples"], "*", c="#d62728", mec="white", ms=13)
            ax.set_xscale("log")
            ax.set_xlabel("eps (nm)")
            ax.set_ylabel("min_samples")
            ax.set_title(
                f"{LANDSCAPE_TITLES[method]}: {label}\n"
                f"best cell {np.nanmax(scores):.2f}, chosen {chosen[metric]:.2f}",
                fontsize=9,
            )
        extend = "min" if below else "neither"  # ARI† < 0: many tiny clusters
        fig.colorbar(mesh, ax=list(row), label=LATEX_LABELS[metric], shrink=0.9, extend=extend)
    fig.suptitle(
        f"{title}: mean over {int(table['n_fovs'].iloc[0])} test FOVs; star: chosen parameters, "
        f"circle: best cell, contour: best - {TOLERANCE:g}",
        fontsize=10,
    )
    save_figure(fig, out_png)
