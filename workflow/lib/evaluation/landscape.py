"""DBSCAN parameter landscapes (paper Supp. Fig. 1; Introduction: by separating clusters from
each other and from the background, MIRO "inherently simplifies the parameter selection for
DBSCAN").

A landscape is the mean over FOVs of ARI† and JI_c (paper "Metrics for performance
evaluation") on a grid of DBSCAN parameters: eps log-spaced over the dataset's search range
``dbscan.eps_nm`` (:func:`eps_grid`) and min_samples (the paper's minPts) evenly spaced over
``dbscan.min_samples`` (:func:`min_samples_grid`), for plain DBSCAN on the localizations and for
MIRO + DBSCAN on the squeezed ones. Scores always compare the labels with the ground truth on the
original localizations, as the metrics rule does. How flat a landscape is, is summarised by the
area of the grid whose score lies within :data:`TOLERANCE` of its best (:func:`near_best`).

Speed (benchmarks/bench_landscape.py): the labels of every grid cell of one FOV come from one
neighbour search at the largest eps (:class:`NeighbourPairs`), shared by every cell, and for
each eps one sweep over min_samples from the largest to the smallest that joins the core-core
pairs of each level to the components of the level above (:func:`dbscan_grid`), so that every
pair is joined once per eps. The labels are scikit-learn's (same clusters, same numbering,
same border assignment: a border point joins the first cluster, in the order of their lowest
core point, that reaches it). Nothing is random: the same FOVs and grid give the same numbers.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse.csgraph import connected_components
from sklearn.neighbors import NearestNeighbors

from miro.evaluation.dbscan import dbscan_labels
from miro.evaluation.metrics import Clusters, ari_dagger, jaccard_clusters, pair_clusters

#: Metrics of the landscapes: the pair-counting ARI† and the cluster-level JI_c.
LANDSCAPE_METRICS: tuple[str, ...] = ("ARI_dagger", "JI_c")
#: A grid cell is "near the best" when its score is at least the best score minus this.
TOLERANCE = 0.05
#: Columns of a landscape table (:func:`landscape`): the grid cells, then the chosen cell.
LANDSCAPE_COLUMNS: tuple[str, ...] = (
    "method",
    "kind",
    "eps",
    "min_samples",
    *LANDSCAPE_METRICS,
    "n_fovs",
)
#: Columns of the summary table (:func:`summary`).
SUMMARY_COLUMNS: tuple[str, ...] = (
    *("dataset", "method", "metric", "best", "best_eps", "best_min_samples"),
    *("chosen", "chosen_eps", "chosen_min_samples", "chosen_near_best"),
    *("near_best_fraction", "near_best_area", "n_cells", "n_fovs"),
)


def eps_grid(eps_range: Sequence[float], n: int) -> np.ndarray:
    """``n`` eps values (nm) log-spaced from the low to the high end of ``eps_range``."""
    low, high = (float(v) for v in eps_range)
    if not 0 < low < high or n < 2:
        raise ValueError(f"eps grid needs 0 < low < high and >= 2 points, got {eps_range}, {n}")
    return np.geomspace(low, high, n)


def min_samples_grid(min_samples_range: Sequence[int], n: int) -> np.ndarray:
    """Up to ``n`` distinct integers evenly spaced over ``min_samples_range`` (ends included)."""
    low, high = (int(v) for v in min_samples_range)
    if not 1 <= low <= high or n < 1:
        raise ValueError(f"min_samples grid needs 1 <= low <= high, got {min_samples_range}, {n}")
    return np.unique(np.round(np.linspace(low, high, n)).astype(np.int64))


class NeighbourPairs(NamedTuple):
    """Every pair ``i < j`` of localizations within the largest eps of a grid, ordered by the
    first grid eps (``eps_values``, increasing) that reaches them: the pairs within
    ``eps_values[k]`` are the first ``ends[k]``."""

    n: int
    first: np.ndarray
    second: np.ndarray
    ends: np.ndarray

    @classmethod
    def search(cls, coords: np.ndarray, eps_values: np.ndarray) -> NeighbourPairs:
        coords = np.asarray(coords, dtype=np.float64)
        if coords.ndim != 2 or coords.shape[1] != 2:
            raise ValueError(f"coords must be an (n, 2) array, got shape {coords.shape}")
        max_eps = float(eps_values[-1])
        graph = NearestNeighbors(radius=max_eps).fit(coords).radius_neighbors_graph(mode="distance")
        first = np.repeat(np.arange(len(coords)), np.diff(graph.indptr))
        upper = graph.indices > first
        first, second, distance = (
            first[upper],
            graph.indices[upper].astype(np.int64),
            graph.data[upper],
        )
        reach = np.searchsorted(eps_values, distance, side="left")
        order = np.argsort(reach.astype(np.int16), kind="stable")  # a radix sort
        ends = np.cumsum(np.bincount(reach, minlength=len(eps_values)))
        return cls(len(coords), first[order], second[order], ends)


def dbscan_grid(
    coords: np.ndarray, eps_values: Sequence[float], min_samples_values: Sequence[int]
) -> Iterator[tuple[float, int, np.ndarray]]:
    """DBSCAN labels of ``coords`` (n, 2) at every (eps, min_samples) of the grid, as ``(eps,
    min_samples, labels)`` with eps increasing and, for each, min_samples decreasing: labels + 1
    as :func:`miro.evaluation.dbscan.dbscan_labels` (0 = noise), equal to scikit-learn's. A point
    is core when at least min_samples points (itself included) lie within eps (distance <= eps).

    The clusters of the core points at (eps, min_samples) refine those at any larger eps or
    smaller min_samples, so each cell starts from the components of its two predecessors (the
    previous eps, the previous min_samples) and joins only the pairs that became core-core
    there: a pair of points of degrees d_i, d_j within eps joins two core points for the
    min_samples <= min(d_i, d_j), and is added once, when min(d_i, d_j) first reaches a level.
    """
    eps_values = np.asarray(eps_values, dtype=np.float64)
    levels = np.asarray(min_samples_values, dtype=np.int64)
    if np.any(np.diff(eps_values) <= 0) or np.any(np.diff(levels) <= 0) or levels[0] < 1:
        raise ValueError("eps and min_samples grids must be increasing (min_samples >= 1)")
    pairs = NeighbourPairs.search(coords, eps_values)
    n, top = pairs.n, len(levels)
    single = np.arange(n)
    previous = [single] * top  # components per level at the previous eps
    bucket = np.zeros(len(pairs.first), dtype=np.int64)  # levels q < bucket: core-core
    degree = np.ones(n, dtype=np.int64)
    active = np.zeros(0, dtype=np.int64)  # pairs with a non-core end at some level
    for k, eps in enumerate(eps_values):
        begin, end = (int(pairs.ends[k - 1]) if k else 0), int(pairs.ends[k])
        for ends_of in (pairs.first[begin:end], pairs.second[begin:end]):
            degree += np.bincount(ends_of, minlength=n)
        active = np.concatenate([active, np.arange(begin, end)])
        first, second = pairs.first[active], pairs.second[active]
        low = np.minimum(degree[first], degree[second])
        high = np.maximum(degree[first], degree[second])
        grown = np.searchsorted(levels, low, side="right")
        changed = np.flatnonzero(grown > bucket[active])
        bucket[active] = grown
        changed = changed[np.argsort(grown[changed].astype(np.int16), kind="stable")]
        starts = np.searchsorted(grown[changed], np.arange(top + 2), side="left")
        below = np.flatnonzero(grown < top)
        below = below[np.argsort(grown[below].astype(np.int16), kind="stable")]
        below_ends = np.searchsorted(grown[below], np.arange(1, top + 1), side="right")
        component = single
        current = [single] * top
        for q in range(top - 1, -1, -1):
            new = changed[starts[q + 1] : starts[q + 2]]  # core-core from level q on
            component = _join(n, component, previous[q], first[new], second[new])
            current[q] = component
            border = below[: below_ends[q]]  # a non-core end at level q
            border = border[high[border] >= levels[q]]
            labels = _labels(component, degree >= levels[q], first[border], second[border])
            yield float(eps), int(levels[q]), labels
        previous = current
        active = active[grown < top]  # pairs of two points core at every level stay joined


def _join(
    n: int, a: np.ndarray, b: np.ndarray, first: np.ndarray, second: np.ndarray
) -> np.ndarray:
    """Components of n points (labels) joining partitions ``a`` and ``b`` (labels in [0, n))
    and the pairs (first, second)."""
    if b is a and not len(first):
        return a
    points = np.arange(n)
    rows = np.concatenate([points, points, first])
    cols = np.concatenate([_member(a), _member(b), second])
    graph = sparse.csr_matrix((np.ones(len(rows), dtype=bool), (rows, cols)), shape=(n, n))
    return connected_components(graph, directed=True, connection="weak")[1]


def _member(labels: np.ndarray) -> np.ndarray:
    """For every point, the lowest-numbered point with the same label."""
    lowest = np.empty(len(labels), dtype=np.int64)
    lowest[labels[::-1]] = np.arange(len(labels) - 1, -1, -1)
    return lowest[labels]


def _labels(
    component: np.ndarray, core: np.ndarray, first: np.ndarray, second: np.ndarray
) -> np.ndarray:
    """scikit-learn's DBSCAN labels + 1 from the components of the core points and the pairs
    joining a core point to a non-core one: clusters numbered by their lowest core point, a
    border point in the lowest-numbered cluster among its core neighbours."""
    n = len(component)
    labels = np.zeros(n, dtype=np.int64)
    cores = np.flatnonzero(core)
    if not len(cores):
        return labels
    roots, first_core, inverse = np.unique(component[cores], return_index=True, return_inverse=True)
    rank = np.empty(len(roots), dtype=np.int64)
    rank[np.argsort(first_core, kind="stable")] = np.arange(1, len(roots) + 1)
    labels[cores] = rank[inverse]
    first_core_side = core[first]
    inner = np.where(first_core_side, first, second)
    outer = np.where(first_core_side, second, first)
    best = np.full(n, np.iinfo(np.int64).max)
    np.minimum.at(best, outer, labels[inner])
    border = (~core) & (best < np.iinfo(np.int64).max)
    labels[border] = best[border]
    return labels


def fov_scores(
    coords: np.ndarray,
    truth: np.ndarray,
    labels: np.ndarray,
    truth_clusters: Clusters | None = None,
) -> dict[str, float]:
    """ARI† and JI_c of one FOV's ``labels`` against ``truth`` on the original ``coords`` (the
    values :func:`miro.evaluation.metrics.evaluate_fov` gives); ``truth_clusters`` reuses the
    ground truth's cluster summary."""
    if truth_clusters is None:
        truth_clusters = Clusters.from_labels(coords, truth)
    pairing = pair_clusters(truth_clusters, Clusters.from_labels(coords, labels))
    return {"ARI_dagger": ari_dagger(truth, labels), "JI_c": jaccard_clusters(pairing)}


class LandscapeFov(NamedTuple):
    """One FOV of a landscape: the coordinates DBSCAN clusters (raw localizations for plain
    DBSCAN, squeezed ones for MIRO + DBSCAN), the original localizations the scores are computed
    on, and the ground-truth labels."""

    clustered: np.ndarray
    coords: np.ndarray
    truth: np.ndarray


def landscape(
    fovs: Sequence[LandscapeFov],
    eps_values: Sequence[float],
    min_samples_values: Sequence[int],
    chosen: Mapping[str, float],
    method: str,
) -> pd.DataFrame:
    """Mean ARI† and JI_c over ``fovs`` at every cell of the grid (rows ``kind == "grid"``) and
    at the ``chosen`` parameters (``{"eps", "min_samples"}``, the ones the run used; one row
    ``kind == "chosen"``), as a table with columns :data:`LANDSCAPE_COLUMNS`."""
    if not fovs:
        raise ValueError(f"{method}: no FOVs to compute a landscape on")
    cells: dict[tuple[float, int], list[dict[str, float]]] = {}
    chosen_scores = []
    eps, min_samples = float(chosen["eps"]), int(chosen["min_samples"])
    for fov in fovs:
        truth_clusters = Clusters.from_labels(fov.coords, fov.truth)
        for cell_eps, cell_min, labels in dbscan_grid(
            fov.clustered, eps_values, min_samples_values
        ):
            scores = fov_scores(fov.coords, fov.truth, labels, truth_clusters)
            cells.setdefault((cell_eps, cell_min), []).append(scores)
        labels = dbscan_labels(fov.clustered, eps, min_samples)
        chosen_scores.append(fov_scores(fov.coords, fov.truth, labels, truth_clusters))
    rows = [_row(method, "grid", *cell, scores) for cell, scores in sorted(cells.items())]
    rows.append(_row(method, "chosen", eps, min_samples, chosen_scores))
    return pd.DataFrame(rows, columns=list(LANDSCAPE_COLUMNS))


def _row(method: str, kind: str, eps: float, min_samples: int, scores: list[dict]) -> dict:
    means = {m: float(np.mean([s[m] for s in scores])) for m in LANDSCAPE_METRICS}
    return (
        {"method": method, "kind": kind, "eps": eps, "min_samples": min_samples}
        | means
        | {"n_fovs": len(scores)}
    )


def _tile_widths(values: np.ndarray) -> np.ndarray:
    """Width of each grid value's tile: half-way to its neighbours, clipped at the grid ends."""
    if len(values) < 2:
        return np.zeros(len(values))
    edges = np.concatenate([values[:1], (values[1:] + values[:-1]) / 2, values[-1:]])
    return np.diff(edges)


def near_best(
    grid: pd.DataFrame, metric: str, tolerance: float = TOLERANCE, best: float | None = None
) -> dict[str, float]:
    """How much of one method's grid (rows of :func:`landscape` with ``kind == "grid"``) scores
    within ``tolerance`` of the best ``metric`` (``best``; default the grid's): ``fraction`` of
    the cells, and ``area`` in decades of eps x min_samples (each cell weighs its tile: half-way
    to the neighbouring grid values, in log10 eps and in min_samples; 0 when an axis has one
    value)."""
    table = grid.pivot(index="min_samples", columns="eps", values=metric).sort_index()
    table = table.reindex(sorted(table.columns), axis=1)
    scores = table.to_numpy(dtype=float)
    best = float(np.nanmax(scores)) if best is None else best
    near = scores >= best - tolerance
    weights = np.outer(
        _tile_widths(table.index.to_numpy(dtype=float)),
        _tile_widths(np.log10(table.columns.to_numpy(dtype=float))),
    )
    return {"fraction": float(near.mean()), "area": float((weights * near).sum()), "best": best}


def summary(tables: Mapping[str, pd.DataFrame], tolerance: float = TOLERANCE) -> pd.DataFrame:
    """Per dataset (``tables``: dataset -> its :func:`landscape` tables of every method), method
    and metric: the best score and its parameters (over the grid cells and the chosen
    parameters, which need not lie on the grid and may beat every cell), the chosen parameters'
    score and whether it is within ``tolerance`` of the best, and the near-best fraction and
    area of the grid (:func:`near_best`); columns :data:`SUMMARY_COLUMNS`."""
    rows = []
    for dataset, table in tables.items():
        missing = sorted(set(LANDSCAPE_COLUMNS) - set(table.columns))
        if missing:
            raise ValueError(f"landscape of {dataset}: missing columns {missing}")
        for method, rows_of in table.groupby("method", sort=False):
            grid = rows_of[rows_of["kind"] == "grid"]
            chosen = rows_of[rows_of["kind"] == "chosen"]
            if grid.empty or len(chosen) != 1:
                raise ValueError(
                    f"landscape of {dataset}, {method}: needs grid rows and one chosen row"
                )
            chosen = chosen.iloc[0]
            for metric in LANDSCAPE_METRICS:
                top = grid.loc[grid[metric].idxmax()]
                top = chosen if chosen[metric] > top[metric] else top
                area = near_best(grid, metric, tolerance, best=float(top[metric]))
                rows.append(
                    {
                        "dataset": dataset,
                        "method": method,
                        "metric": metric,
                        "best": area["best"],
                        "best_eps": float(top["eps"]),
                        "best_min_samples": int(top["min_samples"]),
                        "chosen": float(chosen[metric]),
                        "chosen_eps": float(chosen["eps"]),
                        "chosen_min_samples": int(chosen["min_samples"]),
                        "chosen_near_best": bool(chosen[metric] >= area["best"] - tolerance),
                        "near_best_fraction": area["fraction"],
                        "near_best_area": area["area"],
                        "n_cells": len(grid),
                        "n_fovs": int(grid["n_fovs"].iloc[0]),
                    }
                )
    return pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))
