"""Clustering metrics of the paper ("Metrics for performance evaluation", Table 1).

Conventions follow the authors' reference code (docs/reference.md#metrics), which reproduces the
paper's DBSCAN rows to the printed precision:

- labels are non-negative integers, one per localization; ``0`` is the background (ground
  truth ``index`` 0) or DBSCAN noise (predictions are DBSCAN labels + 1);
- ARI, AMI and ARI† count the background / noise as one more cluster; ARI_c drops the
  localizations whose *ground-truth* label is 0;
- IoU compares the unions of the convex hulls of the clusters with >= 3 localizations,
  rasterised on the benchmark grid (:class:`Grid`);
- JI_c, RMSRE_N and the RMSEs are computed on the Hungarian pairing of :func:`pair_clusters`.

Two centroid errors are provided, and every table names which one it holds:

- ``RMSE_xy``: the paper's equation, sqrt(mean d²) over paired centroid distances d (nm);
- ``RMSE_xy_published``: sqrt(mean d) (units √nm), the convention that produced the numbers
  printed in the paper's Table 1 (its "RMSE_x,y" column).

Defined results for degenerate inputs (each is tested):

- no predicted cluster (all noise): IoU = 0, JI_c = 0, RMSRE_N = RMSE = NaN (no pair);
- no ground-truth cluster: IoU = 0 (empty intersection), JI_c = 0, RMSRE_N = RMSE = NaN,
  ARI_c = NaN (no clustered localization to compare);
- a cluster with < 3 localizations, or whose points are collinear / coincident, adds no area
  to the IoU masks (a degenerate hull has zero area); it still counts for pairing;
- one label on both sides (e.g. all background and all noise): ARI = AMI = ARI† = 1 (scikit-
  learn's convention for identical trivial partitions); one label on one side only: ARI† = 0.

These values follow the reference (they keep the paper's DBSCAN rows), but some of them are
conventions rather than measurements: a FOV of 3 clustered localizations where DBSCAN finds
nothing scores ARI = 1. :func:`evaluate_fov` therefore flags every degenerate FOV × method in a
``degenerate`` column (codes in :data:`DEGENERATE`, ``;``-separated, empty when none applies),
and :func:`evaluate_fovs` flags test FOVs whose localizations exactly duplicate another FOV's in
a ``duplicate_of`` column; the tables (``miro.outputs.tables``) count both and report them.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import linear_sum_assignment
from scipy.spatial import ConvexHull, QhullError
from scipy.spatial.distance import cdist
from sklearn.metrics import adjusted_mutual_info_score
from sklearn.metrics.cluster import contingency_matrix

from miro.errors import about

#: Metric names in the order of the paper's Table 1, then the published RMSE convention.
#: ``RMSE_xy`` is the paper's equation (nm); ``RMSE_xy_published`` is sqrt(mean distance) (√nm),
#: the value printed in the paper's Table 1 column "RMSE_x,y".
METRICS: tuple[str, ...] = (
    "ARI_dagger",
    "IoU",
    "JI_c",
    "RMSRE_N",
    "RMSE_xy",
    "AMI",
    "ARI_c",
    "ARI",
    "RMSE_xy_published",
)
#: Whether a larger value of a metric means a better clustering.
HIGHER_IS_BETTER: dict[str, bool] = {m: not m.startswith("RMS") for m in METRICS}

#: Degenerate cases of one FOV × method, by flag code: the scores keep the reference's values
#: (module docstring), and the flag says which of them are conventions, not measurements.
DEGENERATE: dict[str, str] = {
    "no_true_cluster": "the ground truth has no cluster (all background): IoU = JI_c = 0, "
    "ARI_c, RMSRE_N and RMSE undefined",
    "no_predicted_cluster": "the prediction has no cluster (all noise): IoU = JI_c = 0, "
    "RMSRE_N and RMSE undefined",
    "trivial_partitions": "one label on each side: ARI = AMI = ARI† = 1 by convention, "
    "whatever the labels mean",
    "trivial_clustered": "one ground-truth cluster, its localizations given one predicted "
    "label: ARI_c = 1 by convention",
}
#: Columns of the long table of :func:`evaluate_fovs`: the five keys and value, then the flags.
LONG_COLUMNS: tuple[str, ...] = ("dataset", "fov", "method", "metric", "value")
FLAG_COLUMNS: tuple[str, ...] = ("degenerate", "duplicate_of")

log = logging.getLogger(__name__)

#: Weight of the centroid distance in the pairing cost (the rest weighs the extents).
PAIRING_BETA = 0.9
#: Cost of pairing clusters whose centroids are farther than half the GT cluster's mean extent.
FAR = 1e9


# --------------------------------------------------------------------------- label metrics
# Each pair-counting metric is computed from one sparse contingency table (ground-truth rows,
# predicted columns, labels in sorted order, so the background row comes first), which
# evaluate_fov builds once per method.
def contingency(truth: np.ndarray, pred: np.ndarray) -> sparse.csr_matrix:
    """scikit-learn's sparse contingency table, background row and noise column included."""
    return contingency_matrix(truth, pred, sparse=True)


def ari(truth: np.ndarray, pred: np.ndarray) -> float:
    """Adjusted Rand index over all localizations, background counted as one cluster."""
    return _ari(contingency(truth, pred))


def ari_c(truth: np.ndarray, pred: np.ndarray) -> float:
    """ARI over the localizations whose ground-truth label is not 0 (predictions kept as they
    are, noise included); NaN when the ground truth has no clustered localization."""
    return _ari_c(contingency(truth, pred), has_background=bool(np.any(np.asarray(truth) == 0)))


def ami(truth: np.ndarray, pred: np.ndarray) -> float:
    """Adjusted mutual information, arithmetic normalisation, background as a cluster."""
    return float(adjusted_mutual_info_score(truth, pred, average_method="arithmetic"))


def ari_dagger(truth: np.ndarray, pred: np.ndarray) -> float:
    """ARI† of Warrens & van der Hoef (paper ref. 38; docs/reference.md#metrics).

    From the contingency table n_ij (ground-truth rows, predicted columns, background row and
    noise column included), with M = C(n, 2) pairs, P_i = C(n_i+, 2), Q_j = C(n_+j, 2),
    P = Σ P_i and Q = Σ Q_j, the adjusted Wallace index of row i and of column j are

        Aw_i = (M Σ_j C(n_ij, 2) - P_i Q) / (P_i (M - Q)),
        Av_j = (M Σ_i C(n_ij, 2) - Q_j P) / (Q_j (M - P)),

    set to 0 where undefined (P_i = 0, Q_j = 0, or a single cluster on the other side). ARI†
    is the harmonic mean of the plain means of the non-zero Aw_i and of the non-zero Av_j
    (0 if that mean is not positive). Two single-cluster partitions give 1.
    """
    return _ari_dagger(contingency(truth, pred))


def _pairs(counts: np.ndarray | sparse.spmatrix) -> np.ndarray:
    """C(k, 2) for every count k (exact, int64)."""
    counts = np.asarray(counts, dtype=np.int64).ravel()
    return counts * (counts - 1) // 2


def _ari(table: sparse.csr_matrix) -> float:
    """Hubert–Arabie ARI = (T - PQ/M) / ((P + Q)/2 - PQ/M), T = Σ C(n_ij, 2), P and Q the row
    and column pair sums, M = C(n, 2); 1 for identical partitions (as scikit-learn)."""
    t, p, q = (_pairs(x).sum() for x in (table.data, table.sum(axis=1), table.sum(axis=0)))
    if t == p == q:
        return 1.0
    n = table.sum()
    expected = p * q / (n * (n - 1) / 2)
    return float((t - expected) / ((p + q) / 2 - expected))


def _ari_c(table: sparse.csr_matrix, has_background: bool) -> float:
    clustered = table[1:] if has_background else table
    return _ari(clustered) if clustered.nnz else float("nan")


def _ari_dagger(table: sparse.csr_matrix) -> float:
    if table.shape == (1, 1):
        return 1.0
    within = table.copy()
    within.data = _pairs(within.data)
    n = float(table.sum())
    total = n * (n - 1) / 2
    row_pairs, col_pairs = (_pairs(table.sum(axis=a)).astype(float) for a in (1, 0))
    aw = _adjusted_wallace(
        np.asarray(within.sum(axis=1)).ravel(), row_pairs, col_pairs.sum(), total
    )
    av = _adjusted_wallace(
        np.asarray(within.sum(axis=0)).ravel(), col_pairs, row_pairs.sum(), total
    )
    return _harmonic(_nonzero_mean(aw), _nonzero_mean(av))


def _adjusted_wallace(
    within: np.ndarray, pairs: np.ndarray, other_pairs: float, total: float
) -> np.ndarray:
    """(M T_k - P_k Q) / (P_k (M - Q)) per cluster k of one side; 0 where undefined."""
    index = np.zeros_like(pairs)
    valid = (pairs > 0) & (other_pairs < total)
    index[valid] = (total * within[valid] - pairs[valid] * other_pairs) / (
        pairs[valid] * (total - other_pairs)
    )
    return index


def _nonzero_mean(index: np.ndarray) -> float:
    nonzero = index[index != 0]
    return float(nonzero.mean()) if nonzero.size else float("nan")


def _harmonic(a: float, b: float) -> float:
    return 2 * a * b / (a + b) if a + b > 0 else 0.0  # NaN compares False: 0


# --------------------------------------------------------------------------- cluster summaries
@dataclass(frozen=True)
class Clusters:
    """The clusters of one partition (label 0 excluded), sorted by label.

    ``points`` holds the clustered localizations grouped by label; cluster k occupies
    ``points[starts[k]:starts[k] + sizes[k]]``. ``extents`` are bounding-box width and height.
    """

    labels: np.ndarray
    sizes: np.ndarray
    starts: np.ndarray
    centroids: np.ndarray
    extents: np.ndarray
    points: np.ndarray

    @classmethod
    def from_labels(cls, coords: np.ndarray, labels: np.ndarray) -> Clusters:
        """Summarise the clusters of ``labels`` (n,) over ``coords`` (n, 2)."""
        coords, labels = np.asarray(coords, dtype=np.float64), np.asarray(labels)
        keep = labels != 0
        order = np.argsort(labels[keep], kind="stable")
        lab, pts = labels[keep][order], coords[keep][order]
        uniq, starts, sizes = np.unique(lab, return_index=True, return_counts=True)
        if not uniq.size:
            empty = np.empty((0, 2))
            return cls(uniq, sizes, starts, empty, empty, pts)
        return cls(
            labels=uniq,
            sizes=sizes,
            starts=starts,
            centroids=np.add.reduceat(pts, starts, axis=0) / sizes[:, None],
            extents=np.maximum.reduceat(pts, starts, axis=0)
            - np.minimum.reduceat(pts, starts, axis=0),
            points=pts,
        )

    def __len__(self) -> int:
        return len(self.labels)

    def members(self, k: int) -> np.ndarray:
        return self.points[self.starts[k] : self.starts[k] + self.sizes[k]]


# --------------------------------------------------------------------------- IoU
@dataclass(frozen=True)
class Grid:
    """Pixel centres of the IoU masks: ``dim`` evenly spaced values (ends included) from the
    smallest to the largest x, and likewise y, of all localizations of the FOV."""

    xs: np.ndarray
    ys: np.ndarray

    @classmethod
    def benchmark(cls, coords: np.ndarray) -> Grid:
        """``dim = ceil(max(max x, max y) / 100) * 100 + 400`` (about 1 nm for 2 µm FOVs)."""
        dim = int(np.ceil(coords.max() / 100) * 100 + 400)
        lo, hi = coords.min(axis=0), coords.max(axis=0)
        return cls(np.linspace(lo[0], hi[0], dim), np.linspace(lo[1], hi[1], dim))


def hull_mask(clusters: Clusters, grid: Grid) -> np.ndarray:
    """Union of the convex hulls of the clusters with >= 3 localizations, as a boolean mask
    (rows = y, columns = x). Degenerate hulls (collinear or coincident points) have zero area.

    Scan-line fill: a pixel centre (x, y) is inside a hull if the hull spans y (bottom
    included, top excluded) and x lies between the left and right boundary on that row (both
    included); boundary ties have measure zero on real data.
    """
    mask = np.zeros((grid.ys.size, grid.xs.size), dtype=bool)
    hulls = [_hull_vertices(clusters.members(k)) for k in np.flatnonzero(clusters.sizes >= 3)]
    hulls = [h for h in hulls if h is not None]
    if not hulls:
        return mask
    hull, row, col_lo, col_hi = _hull_rows(hulls, grid)
    bounds = np.searchsorted(hull, np.arange(len(hulls) + 1))
    for lo, hi in itertools.pairwise(bounds):
        cols = np.arange(col_lo[lo:hi].min(initial=mask.shape[1]), col_hi[lo:hi].max(initial=0))
        if cols.size:
            inside = (cols >= col_lo[lo:hi, None]) & (cols < col_hi[lo:hi, None])
            mask[row[lo] : row[hi - 1] + 1, cols[0] : cols[-1] + 1] |= inside
    return mask


def _hull_vertices(points: np.ndarray) -> np.ndarray | None:
    """Counter-clockwise hull vertices, or None for a degenerate hull."""
    try:
        return points[ConvexHull(points).vertices]
    except QhullError:
        return None


def _hull_rows(
    hulls: list[np.ndarray], grid: Grid
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """For every (hull, grid row) that a counter-clockwise convex polygon spans, sorted by hull
    then row: hull index, row, and the pixel columns [col_lo, col_hi) inside it.

    Every edge crosses the rows whose y lies in [lower end, upper end); rising edges form the
    right boundary and falling edges the left one, so each (hull, row) gets exactly one left and
    one right crossing.
    """
    start = np.concatenate(hulls)
    end = np.concatenate([np.roll(h, -1, axis=0) for h in hulls])
    hull_of_edge = np.repeat(np.arange(len(hulls)), [len(h) for h in hulls])
    row_a, row_b = (np.searchsorted(grid.ys, p[:, 1]) for p in (start, end))
    edge, row = _ranges(np.minimum(row_a, row_b), np.maximum(row_a, row_b))
    a, b = start[edge], end[edge]
    x = a[:, 0] + (grid.ys[row] - a[:, 1]) * (b[:, 0] - a[:, 0]) / (b[:, 1] - a[:, 1])
    rising = b[:, 1] > a[:, 1]
    key = hull_of_edge[edge] * grid.ys.size + row
    right = np.argsort(key[rising], kind="stable")
    left = np.argsort(key[~rising], kind="stable")
    return (
        hull_of_edge[edge][rising][right],
        row[rising][right],
        np.searchsorted(grid.xs, x[~rising][left], "left"),
        np.searchsorted(grid.xs, x[rising][right], "right"),
    )


def _ranges(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Concatenated ``arange(lo[i], hi[i])``: (i of every value, value)."""
    counts = hi - lo
    which = np.repeat(np.arange(len(lo)), counts)
    offsets = np.cumsum(counts) - counts
    return which, np.arange(counts.sum()) - np.repeat(offsets - lo, counts)


def mask_iou(truth_mask: np.ndarray, pred_mask: np.ndarray) -> float:
    """|intersection| / |union| of two masks; 0 when the union is empty."""
    union = np.count_nonzero(truth_mask | pred_mask)
    return np.count_nonzero(truth_mask & pred_mask) / union if union else 0.0


def iou(coords: np.ndarray, truth: np.ndarray, pred: np.ndarray) -> float:
    """IoU of the ground-truth and predicted hull masks on the benchmark grid (0 when no
    predicted cluster has a hull)."""
    coords, truth, pred = _checked(coords, truth, pred)
    grid = Grid.benchmark(coords)
    return mask_iou(
        hull_mask(Clusters.from_labels(coords, truth), grid),
        hull_mask(Clusters.from_labels(coords, pred), grid),
    )


# --------------------------------------------------------------------------- cluster pairing
class Pairing(NamedTuple):
    """Kept (true-positive) pairs of :func:`pair_clusters`: cluster indices into the truth and
    prediction :class:`Clusters`, centroid distances (nm), and the number of clusters."""

    truth: np.ndarray
    pred: np.ndarray
    distance: np.ndarray
    truth_sizes: np.ndarray
    pred_sizes: np.ndarray
    n_truth: int
    n_pred: int


def pair_clusters(truth: Clusters, pred: Clusters) -> Pairing:
    """Hungarian pairing of ground-truth and predicted clusters (paper Methods, "Metrics for
    performance evaluation"; docs/reference.md#metrics).

    Cost = 0.9 × centroid distance + 0.1 × city-block distance between bounding-box extents,
    where a centroid distance above half the mean extent (mean of width and height) of that
    ground-truth cluster is replaced by 1e9. An assigned pair is kept (TP) if its (replaced)
    distance is below the largest half mean extent over the ground-truth clusters.
    """
    if not len(truth) or not len(pred):
        empty = np.empty(0, dtype=np.intp)
        return Pairing(empty, empty, np.empty(0), empty, empty, len(truth), len(pred))
    half_extent = truth.extents.mean(axis=1) / 2
    distance = cdist(truth.centroids, pred.centroids)
    distance[distance > half_extent[:, None]] = FAR
    cost = PAIRING_BETA * distance + (1 - PAIRING_BETA) * cdist(
        truth.extents, pred.extents, metric="cityblock"
    )
    rows, cols = linear_sum_assignment(cost)
    kept = distance[rows, cols] < half_extent.max()
    rows, cols = rows[kept], cols[kept]
    return Pairing(
        rows,
        cols,
        distance[rows, cols],
        truth.sizes[rows],
        pred.sizes[cols],
        len(truth),
        len(pred),
    )


def jaccard_clusters(pairing: Pairing) -> float:
    """JI_c = TP / (TP + FP + FN); 0 when there is no cluster on either side."""
    tp = len(pairing.distance)
    denominator = pairing.n_truth + pairing.n_pred - tp
    return tp / denominator if denominator else 0.0


def rmsre_n(pairing: Pairing) -> float:
    """RMSRE_N = sqrt(mean over TP of ((N_gt - N_pred) / N_gt)²); NaN without TP."""
    if not len(pairing.distance):
        return float("nan")
    relative = (pairing.truth_sizes - pairing.pred_sizes) / pairing.truth_sizes
    return float(np.sqrt(np.mean(relative**2)))


def rmse_xy(pairing: Pairing) -> float:
    """RMSE_x,y by the paper's equation: sqrt(mean over TP of d²), in nm; NaN without TP."""
    if not len(pairing.distance):
        return float("nan")
    return float(np.sqrt(np.mean(pairing.distance**2)))


def rmse_xy_published(pairing: Pairing) -> float:
    """RMSE_x,y as published in Table 1: sqrt(mean over TP of d), in √nm; NaN without TP."""
    if not len(pairing.distance):
        return float("nan")
    return float(np.sqrt(np.mean(pairing.distance)))


# --------------------------------------------------------------------------- ablation metrics
def compression_index(coords: np.ndarray, squeezed: np.ndarray, labels: np.ndarray) -> float:
    """Compression index ("Number of recurrent steps"): mean over clusters l (label != 0) of
    1 - Σ_i ||x_i + Δx_i - μ_l|| / Σ_i ||x_i - μ_l||, with ``squeezed`` = x + Δx and μ_l the
    centroid of the original positions. Clusters with zero spread (one point) are skipped;
    NaN when no cluster remains."""
    coords, labels = _checked(coords, labels)[:2]
    squeezed = np.asarray(squeezed, dtype=np.float64)
    if squeezed.shape != coords.shape:
        raise ValueError(f"squeezed has shape {squeezed.shape}, coords {coords.shape}")
    keep = labels != 0
    uniq, inverse, sizes = np.unique(labels[keep], return_inverse=True, return_counts=True)
    centroid = np.stack([np.bincount(inverse, w) for w in coords[keep].T], axis=1)
    centroid = (centroid / sizes[:, None])[inverse]
    before = np.bincount(inverse, np.linalg.norm(coords[keep] - centroid, axis=1), len(uniq))
    after = np.bincount(inverse, np.linalg.norm(squeezed[keep] - centroid, axis=1), len(uniq))
    spread = before > 0
    return float(np.mean(1 - after[spread] / before[spread])) if spread.any() else float("nan")


def dirichlet_energy(features: np.ndarray, edge_index: np.ndarray) -> float:
    """Dirichlet energy ("Number of recurrent steps"): (1/N_v) Σ_i Σ_{j∈N_i} ||u_i - u_j||²,
    summed over the directed edges of ``edge_index`` (2, E) (store both directions for an
    undirected graph), for node features ``features`` (N_v, F)."""
    features = np.asarray(features, dtype=np.float64)
    edge_index = np.asarray(edge_index)
    if features.ndim != 2 or edge_index.ndim != 2 or edge_index.shape[0] != 2:
        raise ValueError(
            f"need features (N, F) and edge_index (2, E), got {features.shape}, {edge_index.shape}"
        )
    diff = features[edge_index[0]] - features[edge_index[1]]
    return float(np.sum(diff**2) / len(features))


# --------------------------------------------------------------------------- whole FOVs
class FovRecord(NamedTuple):
    """One FOV for :func:`evaluate_fovs`: localizations (n, 2) in nm, ground-truth labels
    (n,), and the labels (n,) of every method by name (0 = noise). ``source`` names the files
    the record was read from; errors and warnings about the FOV quote it."""

    dataset: str
    fov: int
    coords: np.ndarray
    truth: np.ndarray
    predictions: Mapping[str, np.ndarray]
    source: str = ""


def degenerate_flags(truth: np.ndarray, pred: np.ndarray) -> str:
    """The :data:`DEGENERATE` codes that apply to one prediction, ``;``-separated ("" if none)."""
    return _degenerate(contingency(truth, pred), np.asarray(truth), np.asarray(pred))


def _degenerate(table: sparse.csr_matrix, truth: np.ndarray, pred: np.ndarray) -> str:
    has_background = bool(np.any(truth == 0))
    clustered = table[1:] if has_background else table
    clustered = clustered[:, np.flatnonzero(clustered.getnnz(axis=0))]
    applies = {
        "no_true_cluster": not np.any(truth != 0),
        "no_predicted_cluster": not np.any(pred != 0),
        "trivial_partitions": table.shape == (1, 1),
        "trivial_clustered": clustered.shape == (1, 1),
    }
    return ";".join(code for code in DEGENERATE if applies[code])


def evaluate_fov(
    coords: np.ndarray,
    truth: np.ndarray,
    predictions: Mapping[str, np.ndarray],
    metrics: Sequence[str] = METRICS,
) -> pd.DataFrame:
    """Metrics of every method on one FOV: one row per method, columns ``method``, the
    requested ``metrics`` (names from :data:`METRICS`) and ``degenerate`` (the
    :data:`DEGENERATE` codes of that method, "" when none). The ground-truth hulls and cluster
    summary are computed once and shared by all methods."""
    unknown = set(metrics) - set(METRICS)
    if unknown:
        raise ValueError(f"unknown metrics {sorted(unknown)}; known: {list(METRICS)}")
    coords, truth = _checked(coords, truth)
    gt = Clusters.from_labels(coords, truth)
    grid = Grid.benchmark(coords) if "IoU" in metrics else None
    gt_mask = hull_mask(gt, grid) if grid is not None else None
    rows = []
    for method, labels in predictions.items():
        pred = _checked(coords, labels, name=f"predictions[{method!r}]")[1]
        table = contingency(truth, pred)
        scores = _method_metrics(coords, truth, pred, table, gt, gt_mask, grid, metrics)
        rows.append({"method": method} | scores | {"degenerate": _degenerate(table, truth, pred)})
    return pd.DataFrame(rows, columns=["method", *metrics, "degenerate"])


def _method_metrics(
    coords: np.ndarray,
    truth: np.ndarray,
    pred: np.ndarray,
    table: sparse.csr_matrix,
    gt: Clusters,
    gt_mask: np.ndarray | None,
    grid: Grid | None,
    metrics: Sequence[str],
) -> dict[str, float]:
    """The requested metrics of one prediction, reusing the ground-truth summary and mask."""
    clusters = Clusters.from_labels(coords, pred)
    paired = {"JI_c", "RMSRE_N", "RMSE_xy", "RMSE_xy_published"}.intersection(metrics)
    pairing = pair_clusters(gt, clusters) if paired else None
    pred_mask = hull_mask(clusters, grid) if grid is not None else None
    compute = {
        "ARI_dagger": lambda: _ari_dagger(table),
        "IoU": lambda: mask_iou(gt_mask, pred_mask),
        "JI_c": lambda: jaccard_clusters(pairing),
        "RMSRE_N": lambda: rmsre_n(pairing),
        "RMSE_xy": lambda: rmse_xy(pairing),
        "AMI": lambda: ami(truth, pred),
        "ARI_c": lambda: _ari_c(table, has_background=bool(np.any(truth == 0))),
        "ARI": lambda: _ari(table),
        "RMSE_xy_published": lambda: rmse_xy_published(pairing),
    }
    return {m: compute[m]() for m in metrics}


def coordinate_digest(coords: np.ndarray) -> str:
    """SHA-256 of a FOV's localizations as a set: rows sorted, float64, shape included, so two
    FOVs with the same localizations in any row order share it."""
    coords = np.asarray(coords, dtype=np.float64)
    rows = coords[np.lexsort(coords.T[::-1])] if coords.ndim == 2 else coords
    return hashlib.sha256(
        repr(coords.shape).encode() + np.ascontiguousarray(rows).tobytes()
    ).hexdigest()


def evaluate_fovs(
    records: Iterable[FovRecord], metrics: Sequence[str] = METRICS, progress: bool = False
) -> pd.DataFrame:
    """Evaluate many FOVs, each given as a :class:`FovRecord` (dataset name, FOV number,
    coordinates, ground truth, and the labels of every method on that FOV).

    Returns a long table with columns :data:`LONG_COLUMNS` (dataset, fov, method, metric,
    value): one row per FOV, method and metric (``metrics``, by default all of
    :data:`METRICS`; note ``RMSE_xy`` is the paper's equation and ``RMSE_xy_published`` the
    convention of its printed Table 1), then :data:`FLAG_COLUMNS`: ``degenerate`` (the
    :data:`DEGENERATE` codes of that FOV × method) and ``duplicate_of`` (for a FOV whose
    localizations are exactly those of a lower-numbered FOV of the same dataset, that FOV's
    number, else empty; each such FOV is also logged as a warning naming both). A data error
    in a record is raised naming its dataset, FOV and ``source``.
    """
    if progress:
        from tqdm.auto import tqdm

        records = tqdm(records, desc="metrics", unit="FOV")
    tables, seen = [], {}
    for record in records:
        where = f"dataset {record.dataset!r}, FOV {record.fov}"
        where += f" ({record.source})" if record.source else ""
        with about(where):
            table = evaluate_fov(record.coords, record.truth, record.predictions, metrics)
        table.insert(0, "fov", record.fov)
        table.insert(0, "dataset", record.dataset)
        tables.append(table)
        seen.setdefault((record.dataset, coordinate_digest(record.coords)), []).append(
            (record.fov, where)
        )
    columns = [*LONG_COLUMNS, *FLAG_COLUMNS]
    if not tables:
        return pd.DataFrame(columns=columns)
    wide = pd.concat(tables, ignore_index=True)
    long = wide.melt(
        id_vars=["dataset", "fov", "method", "degenerate"], var_name="metric", value_name="value"
    )
    duplicate_of = _duplicates(seen)
    long["duplicate_of"] = pd.array(
        [duplicate_of.get(key) for key in zip(long["dataset"], long["fov"], strict=True)],
        dtype="Int64",
    )
    return long[columns]


def _duplicates(seen: Mapping[tuple[str, str], list[tuple[int, str]]]) -> dict[tuple, int]:
    """(dataset, FOV) -> the lowest FOV number with the same localizations; warns per copy."""
    duplicate_of = {}
    for (dataset, _), fovs in seen.items():
        (original, where), *copies = sorted(fovs)
        for fov, copy_where in copies:
            duplicate_of[dataset, fov] = original
            log.warning(
                "%s has exactly the same localizations as %s: flagged duplicate_of=%d and "
                "counted once in Table 1 and the statistics; remove the copy from the dataset "
                "if it is not meant to be there",
                copy_where,
                where,
                original,
            )
    return duplicate_of


def _checked(
    coords: np.ndarray, labels: np.ndarray, pred: np.ndarray | None = None, name: str = "labels"
) -> tuple[np.ndarray, ...]:
    """Validate (n, 2) finite coordinates and non-negative integer label vectors of length n."""
    coords = np.asarray(coords, dtype=np.float64)
    if coords.ndim != 2 or coords.shape[1] != 2 or not len(coords):
        raise ValueError(f"coords must be a non-empty (n, 2) array, got shape {coords.shape}")
    if not np.isfinite(coords).all():
        raise ValueError("coords contain NaN or infinite values")
    out = [coords]
    for label_name, lab in ((name, labels), ("pred", pred)):
        if lab is None:
            continue
        lab = np.asarray(lab)
        if lab.shape != (len(coords),) or not np.issubdtype(lab.dtype, np.integer):
            raise ValueError(
                f"{label_name} must be {len(coords)} integers, got {lab.dtype} {lab.shape}"
            )
        if lab.min() < 0:
            raise ValueError(f"{label_name} contain negative labels; use DBSCAN labels + 1")
        out.append(lab)
    return tuple(out)


def distinct_fovs(long_df: pd.DataFrame) -> pd.DataFrame:
    """The rows of the FOVs not flagged ``duplicate_of`` another FOV (all rows of a table
    without that column), so that each distinct FOV counts once."""
    if "duplicate_of" not in long_df.columns:
        return long_df
    return long_df[long_df["duplicate_of"].isna()]
