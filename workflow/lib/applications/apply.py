"""Apply a trained MIRO to users' own localization files (paper Figs. 4b-e and 5c-f).

An experimental acquisition (e.g. the dSTORM image of integrin α5β1 in HeLa cells of Fig. 4b,
tens of μm across) is much larger than the FOVs MIRO was trained on (10 x 10 μm² for integrin),
and MIRO's graph lives in normalised units: the connectivity radius r means ``r x FOV extent``
nm. New data keeps the training scale (as the authors do): it is divided by the training FOV
extent, so a file smaller than that is padded, not stretched, and a larger one is cut into
square windows of that extent (`tile_windows`), each squeezed on its own with
`miro.core.squeeze.squeeze_many` and stitched back (`squeeze_large`): a window's *core* tiles the
plane, its *halo* gives the core's localizations their neighbours, and every localization keeps
the squeezed position of the one window whose core holds it. DBSCAN (or HDBSCAN) then clusters
the squeezed localizations (MIRO + DBSCAN) and, as the baseline, DBSCAN the raw ones;
`cluster_table` describes every cluster (size, radius, nearest neighbour: the histograms of
Fig. 4c-e) and `apply_to_files` checks everything (options, outputs, checkpoint, files, units)
before it writes labels, tables and figures.
"""

from __future__ import annotations

import itertools
import logging
import os
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib import colormaps as plt_colormaps
from matplotlib.colors import to_rgba_array
from matplotlib.figure import Figure
from mpl_toolkits.axes_grid1.anchored_artists import AnchoredSizeBar
from scipy.spatial import ConvexHull, Delaunay, QhullError, cKDTree
from sklearn.cluster import HDBSCAN
from tqdm import tqdm

from miro.core.checkpoint import load_checkpoint
from miro.core.model import MIRO
from miro.core.squeeze import SqueezeResult, squeeze_many
from miro.data.labels import cluster_classes
from miro.data.readers import MIN_LOCALIZATIONS, LocalizationFileError, read_localizations
from miro.data.simulate import simulate_fov
from miro.data.writers import WRITE_FORMATS, write_localizations
from miro.evaluation.dbscan import dbscan_labels
from miro.files import write_csv_atomic
from miro.outputs.figures import METHOD_COLORS, nice_length, save_figure

log = logging.getLogger(__name__)

#: Localization files of an input folder (CLI folders, config apply.input_dir); the reader is
#: picked by content (`miro.data.readers`); a Picasso file's ``.yaml`` sidecar is not an input.
INPUT_SUFFIXES = (".csv", ".tsv", ".txt", ".hdf5", ".h5", ".mat")
UNITS = {"nm": 1.0, "um": 1000.0, "px": None}  # nm per unit; px: the camera pixel size
MIN_NN_NM = 0.5
"""Smallest plausible median nearest-neighbour distance (nm) of localizations: µm or pixel
coordinates read as nm lie closer (`check_units`)."""
CLUSTERERS = ("dbscan", "hdbscan")
ONE_CLUSTER_SHARE = 0.5
"""A result where one cluster holds more than this fraction of the localizations is warned about
(eps too large for the acquisition)."""
LABEL_COLUMNS = ("x_squeezed", "y_squeezed", "miro_cluster", "miro_class", "dbscan_cluster")
BACKGROUND_COLOR = "#8c8c8c"
MAP_PALETTE = [c for i, c in enumerate(plt_colormaps["tab20"].colors) if i not in (14, 15)]
"""Cluster colours of the map: tab20 without its greys (kept for the background)."""
CHECKPOINT_HINT = (
    "give the model.pt that training wrote (results/<dataset>/miro/model.pt) or an imported "
    "published model"
)
CLUSTER_COLUMNS = (
    "cluster",
    "n_localizations",
    "centroid_x",
    "centroid_y",
    "radius_of_gyration",
    "hull_area",
    "nn_distance",
)
HISTOGRAMS = {
    "radius_of_gyration": "cluster radius (radius of gyration, nm)",
    "n_localizations": "localizations per cluster",
    "nn_distance": "nearest-neighbour distance between clusters (nm)",
}
"""Fig. 4c-e: the cluster-table columns histogrammed by `plot_histograms`, with axis labels."""


# ----------------------------------------------------------------------------- tiling
@dataclass(frozen=True)
class Window:
    """One square window of a large acquisition.

    ``core``: indices of the localizations whose squeezed position this window gives (the cores
    of all windows partition the input). ``members``: indices of all localizations inside
    ``bounds`` (core + halo), ascending; the model sees these. ``bounds``: ``(x0, y0, x1, y1)``
    of the window, nm.
    """

    core: np.ndarray
    members: np.ndarray
    bounds: tuple[float, float, float, float]


def _axis_tiles(
    low: float, high: float, window_nm: float, core_nm: float
) -> tuple[np.ndarray, np.ndarray]:
    """Core edges (n + 1,) and window starts (n,) along one axis of the bounding box [low, high].

    The extent is split into n = ceil(extent / core_nm) equal cores (one when the extent fits in
    one window). Each window is ``window_nm`` wide, centred on its core and shifted to stay inside
    the bounding box, so that border windows also span the training FOV extent (min-max
    normalisation then maps the connectivity radius to the same distance in nm everywhere); its
    halo is at least ``(window_nm - core) / 2 >= overlap`` on each side of the core.
    """
    extent = high - low
    if extent <= window_nm:
        return np.array([low, high]), np.array([low])
    n = int(np.ceil(extent / core_nm))
    edges = np.linspace(low, high, n + 1)
    centres = (edges[:-1] + edges[1:]) / 2
    return edges, np.clip(centres - window_nm / 2, low, high - window_nm)


def _check_geometry(window_nm: float, overlap_nm: float) -> None:
    if not window_nm > 0 or not 0 <= overlap_nm < window_nm / 2:
        raise ValueError(
            f"need window_nm > 0 and 0 <= overlap_nm < window_nm / 2, got window_nm {window_nm}, "
            f"overlap_nm {overlap_nm}"
        )


def tile_windows(coords: np.ndarray, window_nm: float, overlap_nm: float) -> list[Window]:
    """Cover the localizations ``coords`` (N, 2) nm, any origin, with square windows.

    Cores tile the bounding box without overlap (half-open, the last one closed), so every
    localization is in exactly one core; windows whose core holds no localization are left out.
    Windows are ``window_nm`` wide (narrower only along an axis whose whole extent is smaller) and
    reach at least ``overlap_nm`` beyond their core (see `_axis_tiles`).
    """
    coords = np.asarray(coords, dtype=np.float64)
    if coords.ndim != 2 or coords.shape[1] != 2 or not len(coords):
        raise ValueError(f"coords must be a non-empty (N, 2) array, got shape {coords.shape}")
    if not np.isfinite(coords).all():
        raise ValueError("coords must be finite")
    _check_geometry(window_nm, overlap_nm)
    core_nm = window_nm - 2 * overlap_nm
    low, high = coords.min(axis=0), coords.max(axis=0)
    tiles = [_axis_tiles(low[a], high[a], window_nm, core_nm) for a in range(2)]
    shape = tuple(len(starts) for _, starts in tiles)

    def cell(axis: int, values: np.ndarray) -> np.ndarray:
        """Tile index along ``axis``: half-open cores [e_k, e_k+1), the maximum in the last."""
        edges = tiles[axis][0]
        return np.clip(np.searchsorted(edges, values, side="right") - 1, 0, shape[axis] - 1)

    tile = np.ravel_multi_index([cell(a, coords[:, a]) for a in range(2)], shape)
    order = np.argsort(tile, kind="stable")
    first = np.r_[0, np.cumsum(np.bincount(tile, minlength=np.prod(shape)))]

    windows = []
    for t in np.flatnonzero(np.diff(first)):
        ij = np.unravel_index(t, shape)
        lo = np.array([tiles[a][1][ij[a]] for a in range(2)])
        hi = np.minimum(lo + window_nm, high)
        # candidate localizations: those of the tiles whose cores overlap the window
        (i0, j0), (i1, j1) = ([cell(a, bound[a]) for a in range(2)] for bound in (lo, hi))
        neighbours = np.ravel_multi_index(np.mgrid[i0 : i1 + 1, j0 : j1 + 1].reshape(2, -1), shape)
        near = np.concatenate([order[first[u] : first[u + 1]] for u in neighbours])
        inside = (tile[near] == t) | np.all((coords[near] >= lo) & (coords[near] <= hi), axis=1)
        windows.append(
            Window(
                core=order[first[t] : first[t + 1]],
                members=np.sort(near[inside]),
                bounds=(lo[0], lo[1], hi[0], hi[1]),
            )
        )
    return windows


def squeeze_large(
    model: MIRO,
    coords: np.ndarray,
    radius: float,
    *,
    window_nm: float,
    overlap_nm: float,
    device: str = "auto",
    batch_size: int = 8,
) -> SqueezeResult:
    """Squeeze an acquisition of any size window by window (`tile_windows`) and stitch it.

    Every window (core + halo localizations) is normalised at the training scale, i.e. divided by
    ``window_nm`` on both axes (``squeeze_many(..., scale_nm=window_nm)``; the authors keep the
    training FOV extent on new data), so the connectivity radius is ``radius x window_nm`` nm in
    every window, and an acquisition (or an axis) smaller than one window is padded, not
    stretched. ``batch_size`` windows go through one forward pass; each localization takes its
    squeezed position (and class probabilities) from the window whose core holds it, so the result
    has exactly one row per input row, in input order. Localizations of a window with fewer than 3
    members (too few for a graph) pass through unsqueezed, with all class probability on class 0
    (non-clustered). An acquisition smaller than one window is one window: the result equals
    ``squeeze_many(model, [coords], radius, scale_nm=window_nm)``.
    """
    coords = np.asarray(coords, dtype=np.float64)
    windows = tile_windows(coords, window_nm, overlap_nm)
    squeezed = coords.copy()
    probs = None
    if model.num_classes:
        probs = np.zeros((len(coords), model.num_classes), dtype=np.float32)
        probs[:, 0] = 1.0
    usable = [w for w in windows if len(w.members) >= MIN_LOCALIZATIONS]
    for start in tqdm(range(0, len(usable), batch_size), desc="windows", unit="batch"):
        chunk = usable[start : start + batch_size]
        results = squeeze_many(
            model,
            [coords[w.members] for w in chunk],
            radius,
            device=device,
            batch_size=batch_size,
            scale_nm=window_nm,
        )
        for w, result in zip(chunk, results, strict=True):
            keep = np.searchsorted(w.members, w.core)  # core rows within the sorted members
            squeezed[w.core] = result.squeezed_nm[keep]
            if probs is not None:
                probs[w.core] = result.class_probs[keep]
    extent = np.ptp(coords, axis=0)
    log.info(
        "squeezed %d localizations at the training scale: %d window(s) of %g x %g nm "
        "(connectivity radius %g nm, halo >= %g nm, %d localizations passed through)%s",
        len(coords),
        len(usable),
        window_nm,
        window_nm,
        radius * window_nm,
        overlap_nm,
        sum(len(w.core) for w in windows if len(w.members) < MIN_LOCALIZATIONS),
        f"; the data span {extent[0]:.0f} x {extent[1]:.0f} nm, less than a window along "
        "an axis: padded to the window, not stretched"
        if (extent < window_nm).any()
        else "",
    )
    return SqueezeResult(squeezed_nm=squeezed, class_probs=probs)


# ----------------------------------------------------------------------------- cluster statistics
def cluster_table(coords: np.ndarray, labels: np.ndarray) -> pd.DataFrame:
    """One row per cluster (label > 0; 0 = non-clustered) of ``coords`` (N, 2) nm.

    Columns: ``cluster`` (label), ``n_localizations``, ``centroid_x``, ``centroid_y``,
    ``radius_of_gyration`` (root mean squared distance to the centroid, nm; the cluster radius of
    Fig. 4c), ``hull_area`` (convex hull, nm²; 0 below 3 points or when collinear) and
    ``nn_distance`` (centroid distance to the nearest other cluster, nm, Fig. 4e; NaN when there
    is one cluster).
    """
    coords = np.asarray(coords, dtype=np.float64)
    labels = np.asarray(labels)
    if coords.ndim != 2 or coords.shape[1] != 2 or labels.shape != (len(coords),):
        raise ValueError(f"need coords (N, 2) and labels (N,), got {coords.shape}, {labels.shape}")
    clustered = labels > 0
    ids, inverse = np.unique(labels[clustered], return_inverse=True)
    xy = coords[clustered]
    n = np.bincount(inverse, minlength=len(ids))
    centroids = np.stack(
        [np.bincount(inverse, weights=xy[:, a], minlength=len(ids)) / n for a in range(2)], axis=1
    )
    squared = np.sum((xy - centroids[inverse]) ** 2, axis=1)
    gyration = np.sqrt(np.bincount(inverse, weights=squared, minlength=len(ids)) / n)
    nn = np.full(len(ids), np.nan)
    if len(ids) > 1:
        nn = cKDTree(centroids).query(centroids, k=2)[0][:, 1]
    return pd.DataFrame(
        {
            "cluster": ids,
            "n_localizations": n,
            "centroid_x": centroids[:, 0],
            "centroid_y": centroids[:, 1],
            "radius_of_gyration": gyration,
            "hull_area": _hull_areas(xy, inverse, n),
            "nn_distance": nn,
        },
        columns=CLUSTER_COLUMNS,
    )


def _hull_areas(xy: np.ndarray, inverse: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Convex hull area per cluster (0 for fewer than 3 points or collinear points)."""
    order = np.argsort(inverse, kind="stable")
    first = np.r_[0, np.cumsum(n)]
    areas = np.zeros(len(n))
    for k in np.flatnonzero(n >= 3):
        try:
            areas[k] = ConvexHull(xy[order[first[k] : first[k + 1]]]).volume
        except QhullError:
            pass  # collinear (or duplicate) points: no area
    return areas


# ----------------------------------------------------------------------------- clustering
def hdbscan_labels(
    coords: np.ndarray, min_cluster_size: int, min_samples: int | None = None
) -> np.ndarray:
    """HDBSCAN (scikit-learn) labels + 1 for ``coords`` (N, 2) nm: 0 = noise, k >= 1 = cluster.

    An alternative to DBSCAN after the squeeze when one eps does not fit a whole acquisition
    (our addition; the paper uses DBSCAN). ``min_samples`` None = ``min_cluster_size``.
    """
    coords = np.asarray(coords, dtype=np.float64)
    labels = HDBSCAN(
        min_cluster_size=int(min_cluster_size),
        min_samples=None if min_samples is None else int(min_samples),
        copy=True,
    ).fit_predict(coords)
    return np.where(labels >= 0, labels + 1, 0).astype(np.int64)


def cluster_labels(coords: np.ndarray, clusterer: str, params: Mapping) -> np.ndarray:
    """Labels (0 = non-clustered) of ``coords`` by ``clusterer`` (`CLUSTERERS`) with ``params``."""
    if clusterer == "dbscan":
        return dbscan_labels(coords, **params)
    return hdbscan_labels(coords, **params)


def describe_clustering(clusterer: str, params: Mapping) -> str:
    """E.g. ``DBSCAN eps 20 nm, min_samples 5``, for titles and log lines."""
    if clusterer == "dbscan":
        return f"DBSCAN eps {params['eps']:g} nm, min_samples {params['min_samples']}"
    text = f"HDBSCAN min_cluster_size {params['min_cluster_size']}"
    return text + (f", min_samples {params['min_samples']}" if params.get("min_samples") else "")


def _positive_int(name: str, value, minimum: int) -> int:
    """``value`` as an int, if it is a whole number >= ``minimum``; else ValueError naming it."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = float("nan")
    if isinstance(value, bool) or not number.is_integer() or number < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(number)


def clustering_params(name: str, clusterer: str, params: Mapping | None) -> dict:
    """Checked parameters of ``clusterer`` (``name`` labels the error): DBSCAN ``eps`` > 0 nm and
    ``min_samples`` >= 1; HDBSCAN ``min_cluster_size`` >= 2 and optional ``min_samples`` >= 1.
    Other keys (e.g. the ``source`` of a tuned ``MIRO.json``) are left out."""
    if clusterer not in CLUSTERERS:
        raise ValueError(f"unknown clusterer {clusterer!r}; choose one of {CLUSTERERS}")
    required = {"dbscan": {"eps", "min_samples"}, "hdbscan": {"min_cluster_size"}}[clusterer]
    params = {k: v for k, v in dict(params or {}).items() if v is not None}
    missing = required - set(params)
    if missing:
        raise ValueError(
            f"{name} {clusterer.upper()} parameters lack {sorted(missing)}: got {params}"
        )
    if clusterer == "dbscan":
        eps = float(params["eps"])
        if not (np.isfinite(eps) and eps > 0):
            raise ValueError(f"{name} DBSCAN eps must be a positive length in nm, got {eps}")
        return {
            "eps": eps,
            "min_samples": _positive_int(f"{name} min_samples", params["min_samples"], 1),
        }
    checked = {
        "min_cluster_size": _positive_int(f"{name} min_cluster_size", params["min_cluster_size"], 2)
    }
    if "min_samples" in params:
        checked["min_samples"] = _positive_int(f"{name} min_samples", params["min_samples"], 1)
    return checked


def largest_share(labels: np.ndarray) -> float:
    """Fraction of all localizations held by the largest cluster (0 without clusters)."""
    labels = np.asarray(labels)
    counts = np.bincount(labels[labels > 0])
    return float(counts.max() / len(labels)) if counts.size and len(labels) else 0.0


# ----------------------------------------------------------------------------- figures
def neighbour_colors(centroids: np.ndarray, n_colors: int = len(MAP_PALETTE)) -> np.ndarray:
    """A palette index per cluster such that neighbouring clusters differ.

    Neighbours are the edges of the Delaunay triangulation of the cluster centroids (all pairs
    for fewer than 4 clusters, consecutive ones for collinear centroids), so every cluster
    differs from the clusters around it. Greedy colouring, most-connected cluster first; each
    cluster takes, among the colours its coloured neighbours do not use, the one used least so
    far (so the whole palette is used); only a cluster with ``n_colors`` or more neighbours can
    share a neighbour's colour.
    """
    centroids = np.asarray(centroids, dtype=np.float64).reshape(-1, 2)
    n = len(centroids)
    neighbours: list[set[int]] = [set() for _ in range(n)]
    pairs: Iterable[tuple[int, int]]
    try:
        simplices = Delaunay(centroids).simplices if n >= 4 else None
    except QhullError:
        simplices = None
    if simplices is None and n < 4:
        pairs = ((i, j) for i in range(n) for j in range(i + 1, n))
    elif simplices is None:  # collinear or coincident centroids: neighbours along the line
        order = np.lexsort((centroids[:, 1], centroids[:, 0]))
        pairs = itertools.pairwise(order)
    else:
        pairs = ((t[a], t[b]) for t in simplices for a, b in ((0, 1), (1, 2), (0, 2)))
    for i, j in pairs:
        neighbours[i].add(int(j))
        neighbours[j].add(int(i))
    colors = np.full(n, -1, dtype=np.int64)
    used = np.zeros(n_colors, dtype=np.int64)
    for i in sorted(range(n), key=lambda k: (-len(neighbours[k]), k)):
        taken = {colors[j] for j in neighbours[i]}
        free = [c for c in range(n_colors) if c not in taken] or list(range(n_colors))
        colors[i] = min(free, key=lambda c: (used[c], c))
        used[colors[i]] += 1
    return colors


def map_figure(
    coords: np.ndarray,
    labels: Mapping[str, np.ndarray],
    headings: Mapping[str, str] | None = None,
    title: str = "",
) -> Figure:
    """Localization map coloured by cluster, one panel per method (Fig. 4b).

    Axes in μm with a scale bar; non-clustered localizations small and grey (visible, under the
    clusters); clusters coloured so that neighbours differ (`neighbour_colors`); a legend with
    the number of background localizations and of clusters. ``headings``: method -> panel title
    (e.g. the clusterer and its parameters); ``title``: the figure's (e.g. file and model).
    """
    coords = np.asarray(coords, dtype=np.float64)
    um = coords / 1000.0
    fig = Figure(figsize=(6.5 * len(labels), 7.2), layout="constrained")
    palette = to_rgba_array(MAP_PALETTE)
    for ax, (method, values) in zip(
        fig.subplots(1, len(labels), squeeze=False)[0], labels.items(), strict=True
    ):
        values = np.asarray(values)
        clustered = values > 0
        ids, inverse = np.unique(values[clustered], return_inverse=True)
        table = cluster_table(coords, values)
        colors = palette[neighbour_colors(table[["centroid_x", "centroid_y"]].to_numpy())]
        ax.scatter(
            *um[~clustered].T,
            s=2,
            c=BACKGROUND_COLOR,
            linewidths=0,
            rasterized=True,
            label=f"background: {int((~clustered).sum()):,} localizations",
        )
        ax.scatter(
            *um[clustered].T,
            s=3,
            c=colors[inverse] if len(ids) else "none",
            linewidths=0,
            rasterized=True,
            label=f"{len(ids):,} clusters: {int(clustered.sum()):,} localizations",
        )
        ax.set_aspect("equal")
        ax.set_xlabel("x (μm)")
        ax.set_ylabel("y (μm)")
        heading = (headings or {}).get(method, method)
        ax.set_title(f"{heading}\n{len(ids):,} clusters", fontsize=10)
        ax.legend(loc="upper right", fontsize=8, markerscale=4, framealpha=0.85)
        span = np.ptp(um, axis=0).max()
        if span > 0:
            length = nice_length(span)
            text = f"{length:g} μm" if length >= 1 else f"{length * 1000:g} nm"
            bar = AnchoredSizeBar(ax.transData, length, text, "lower right", pad=0.3)
            bar.patch.set(facecolor="white", alpha=0.8, edgecolor="none")
            ax.add_artist(bar)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def plot_map(
    coords: np.ndarray,
    labels: Mapping[str, np.ndarray],
    path: str | os.PathLike,
    headings: Mapping[str, str] | None = None,
    title: str = "",
) -> None:
    """Save `map_figure` to ``path`` (atomically)."""
    save_figure(map_figure(coords, labels, headings, title), path)


def plot_histograms(
    tables: Mapping[str, pd.DataFrame],
    path: str | os.PathLike,
    names: Mapping[str, str] | None = None,
) -> None:
    """Histograms of cluster radius, localizations per cluster and nearest-neighbour distance,
    methods overlaid (Fig. 4c-e); localizations per cluster on a logarithmic y axis. ``names``:
    method -> legend name (default ``MIRO + DBSCAN`` for MIRO)."""
    names = {"MIRO": "MIRO + DBSCAN", **(names or {})}
    fig = Figure(figsize=(13, 3.8), layout="constrained")
    for ax, (column, label) in zip(
        fig.subplots(1, len(HISTOGRAMS)), HISTOGRAMS.items(), strict=True
    ):
        values = {m: t[column].dropna().to_numpy(dtype=float) for m, t in tables.items()}
        pooled = np.concatenate(list(values.values()))
        bins = np.histogram_bin_edges(pooled, bins=40) if pooled.size else 10
        for method, v in values.items():
            ax.hist(
                v,
                bins=bins,
                histtype="step",
                linewidth=1.5,
                color=METHOD_COLORS.get(method),
                label=f"{names.get(method, method)} ({len(v)})",
            )
        ax.set_xlabel(label)
        ax.set_ylabel("clusters")
        if column == "n_localizations" and pooled.size:
            ax.set_yscale("log")
    fig.axes[0].legend(frameon=False)
    save_figure(fig, path)


# ----------------------------------------------------------------------------- files
@dataclass(frozen=True)
class Applied:
    """What `apply_to_files` did for one input: the written ``paths`` by kind, a one-line
    ``summary`` and the ``warnings`` about the result (also logged)."""

    paths: dict[str, Path]
    summary: str
    warnings: tuple[str, ...] = ()


class OutputExistsError(ValueError):
    """Outputs of `apply_to_files` exist already and overwriting was not asked for."""


def output_paths(
    stem: str, out_dir: str | os.PathLike, baseline: bool, output_formats: Sequence[str] = ()
) -> dict[str, Path]:
    """The files `apply_to_files` writes for an input named ``<stem>.csv``; ``output_formats``
    add ``<stem>.thunderstorm.csv`` and ``<stem>.picasso.hdf5`` (+ its ``.yaml`` sidecar)."""
    formats = {"thunderstorm": "thunderstorm.csv", "picasso": "picasso.hdf5"}
    names = {
        "labels": "labels.csv",
        "clusters_miro": "clusters_miro.csv",
        "clusters_dbscan": "clusters_dbscan.csv",
        "map": "map.png",
        "histograms": "histograms.png",
    }
    if not baseline:
        del names["clusters_dbscan"]
    names |= {fmt: formats[fmt] for fmt in output_formats}
    if "picasso" in output_formats:
        names["picasso_yaml"] = "picasso.yaml"
    return {key: Path(out_dir) / f"{stem}.{name}" for key, name in names.items()}


def expand_inputs(paths: Sequence[str | os.PathLike]) -> list[Path]:
    """The input files: a folder stands for its localization files (`INPUT_SUFFIXES`, not
    recursive, sorted by name); a folder without any is an error naming it."""
    files = []
    for path in map(Path, paths):
        if not path.is_dir():
            files.append(path)
            continue
        inside = sorted(
            p for p in path.iterdir() if p.is_file() and p.suffix.lower() in INPUT_SUFFIXES
        )
        if not inside:
            raise LocalizationFileError(
                f"{path}: a folder without localization files ({', '.join(INPUT_SUFFIXES)}); "
                "give the files or a folder that holds them"
            )
        files += inside
    return files


def unit_factor(unit: str, pixel_size_nm: float | None = None) -> float:
    """nm per coordinate unit of input columns that do not state their unit: ``nm`` 1, ``um``
    1000, ``px`` the camera pixel size in nm (``pixel_size_nm``, needed for ``px``; without
    ``px`` it is the pixel size of files whose coordinates are in pixels by their format,
    e.g. Picasso, overriding the file's own)."""
    if unit not in UNITS:
        raise ValueError(f"unknown coordinate unit {unit!r}; choose one of {tuple(UNITS)}")
    if pixel_size_nm is not None and not (np.isfinite(pixel_size_nm) and pixel_size_nm > 0):
        raise ValueError(f"pixel size must be a positive length in nm, got {pixel_size_nm}")
    if unit != "px":
        return UNITS[unit]
    if pixel_size_nm is None:
        raise ValueError("--unit px needs the camera pixel size (--pixel-size, nm)")
    return float(pixel_size_nm)


def check_units(path: str | os.PathLike, coords: np.ndarray, radius_nm: float) -> None:
    """Refuse coordinates that cannot be nm for a model whose connectivity radius is
    ``radius_nm`` nm: a file narrower than one radius (the whole file would be one neighbourhood)
    or with a median nearest-neighbour distance below `MIN_NN_NM` (localizations are at least
    nanometres apart); both are what µm or camera-pixel coordinates read as nm look like. Warn
    when the median nearest-neighbour distance exceeds the radius (a graph with hardly an edge)."""
    coords = np.asarray(coords, dtype=np.float64)
    span = np.ptp(coords, axis=0)
    distances = cKDTree(coords).query(coords, k=2)[0][:, 1]
    distances = distances[distances > 0]
    nn = float(np.median(distances)) if distances.size else 0.0
    found = (
        f"the localizations span {span[0]:.4g} x {span[1]:.4g} and lie a median {nn:.3g} apart "
        f"(nearest neighbour), while the model links localizations within {radius_nm:.4g} nm"
    )
    if span.max() < radius_nm or nn < MIN_NN_NM:
        raise LocalizationFileError(
            f"{path}: coordinates do not look like nm: {found}; if they are in µm give --unit um "
            "(apply: unit um), if in camera pixels --unit px --pixel-size NM"
        )
    if nn > radius_nm:
        log.warning(
            "%s: %s: hardly any localization has a neighbour in the graph; are the coordinates "
            "in nm (--unit)?",
            path,
            found,
        )


@dataclass(frozen=True)
class Reading:
    """How `apply_to_files` reads its inputs: ``fmt``, ``columns`` (`read_localizations`),
    ``unit`` and ``factor`` (`unit_factor`) of columns that do not state their unit, the pixel
    size (nm) of files in pixels, the output formats (`WRITE_FORMATS`) the table must allow."""

    fmt: str
    columns: Mapping[str, str] | None
    unit: str
    factor: float
    pixel_size_nm: float | None
    output_formats: tuple[str, ...]


def _read(path: Path, how: Reading, radius_nm: float) -> pd.DataFrame:
    """One input in nm, checked (`check_units`, no column that the labels file adds, the pixel
    size a Picasso output needs)."""
    table = read_localizations(path, how.fmt, how.columns, pixel_size_nm=how.pixel_size_nm)
    clash = [c for c in LABEL_COLUMNS if c in table.columns]
    if clash:
        raise LocalizationFileError(
            f"{path}: has columns {clash}, which miro apply writes into the labels file (is it a "
            "labels file of an earlier run?); rename them or give the original localizations"
        )
    source = table.attrs.get("source", {})
    stated = source.get("units", {}).get("x", "nm")
    if how.factor != 1.0 and stated != "nm":
        raise LocalizationFileError(
            f"{path}: its coordinates are in {stated} by the file itself (already converted to "
            f"nm); drop --unit {how.unit}"
        )
    if (
        "picasso" in how.output_formats
        and (how.pixel_size_nm or source.get("pixel_size_nm")) is None
    ):
        raise LocalizationFileError(
            f"{path}: a Picasso output is in camera pixels and this file has no pixel size; "
            "give --pixel-size NM"
        )
    factor = how.factor
    if factor != 1.0:
        for name in ("x", "y", "uncertainty"):
            if name in table:
                table[name] = table[name] * factor
    check_units(path, table[["x", "y"]].to_numpy(), radius_nm)
    return table


def _checkpoint_name(path: Path) -> str:
    """The checkpoint as titles name it: up to its last three path parts."""
    return "/".join(path.resolve().parts[-3:])


def load_model(
    model_ckpt: str | os.PathLike, window_nm: float | None, overlap_nm: float | None
) -> tuple[MIRO, float, float, float]:
    """The checkpoint's model, connectivity radius (normalised) and window geometry in nm.

    ``window_nm`` defaults to the training FOV extent stored in the checkpoint
    (``graph.fov_nm``): new data is squeezed at the training scale; ``overlap_nm`` to one
    connectivity radius in nm (``radius x window``), so that every graph edge of a core
    localization lies inside its window. A file that is not a MIRO checkpoint (not a PyTorch
    file, not weights only, or without MIRO's keys) raises ValueError naming it.
    """
    path = Path(model_ckpt)
    if not path.is_file():
        raise FileNotFoundError(
            f"{path}: no such checkpoint file" + (" (a folder)" if path.is_dir() else "")
        )
    if not zipfile.is_zipfile(path):
        raise ValueError(f"{path}: not a MIRO checkpoint (not a PyTorch file); {CHECKPOINT_HINT}")
    try:
        checkpoint = load_checkpoint(path)
    except ValueError as err:
        if "not a readable checkpoint" not in str(err):
            raise  # "not a MIRO checkpoint (missing ...)" or weights that do not fit
        raise ValueError(
            f"{path}: not a MIRO checkpoint (a PyTorch file that does not hold plain weights, or "
            f"a damaged one); {CHECKPOINT_HINT}"
        ) from err
    model = checkpoint.model
    radius = float(checkpoint.radius)
    window_nm = window_nm if window_nm is not None else checkpoint.fov_nm
    if window_nm is None:
        raise ValueError(
            f"{model_ckpt}: the checkpoint does not store the extent of its training FOVs "
            "(graph.fov_nm); give the window size in nm (window_nm, CLI --window-nm), e.g. "
            "10000 for a model trained on 10 x 10 μm² FOVs"
        )
    window_nm = float(window_nm)
    overlap_nm = radius * window_nm if overlap_nm is None else float(overlap_nm)
    _check_geometry(window_nm, overlap_nm)
    return model, radius, window_nm, overlap_nm


def apply_to_file(path: str | os.PathLike, model_ckpt: str | os.PathLike, **options) -> Applied:
    """`apply_to_files` on one file (same keyword ``options``)."""
    return apply_to_files([path], model_ckpt, **options)[0]


def apply_to_files(
    paths: Sequence[str | os.PathLike],
    model_ckpt: str | os.PathLike,
    *,
    miro_dbscan: Mapping[str, float] | None = None,
    baseline_dbscan: Mapping[str, float] | None = None,
    out_dir: str | os.PathLike,
    clusterer: str = "dbscan",
    miro_hdbscan: Mapping[str, int] | None = None,
    fmt: str = "auto",
    columns: Mapping[str, str] | None = None,
    unit: str = "nm",
    pixel_size_nm: float | None = None,
    window_nm: float | None = None,
    overlap_nm: float | None = None,
    device: str = "auto",
    batch_size: int = 8,
    force: bool = False,
    output_formats: Sequence[str] = (),
) -> list[Applied]:
    """Squeeze localization files with MIRO (one model load), cluster them and write the
    results to ``out_dir``.

    ``paths``: files, or folders standing for their localization files (`expand_inputs`).
    ``clusterer`` after the squeeze: ``dbscan`` (``miro_dbscan``: ``eps`` nm, ``min_samples``)
    or ``hdbscan`` (``miro_hdbscan``: ``min_cluster_size``, optional ``min_samples``); the
    optional baseline is plain DBSCAN on the raw localizations (``baseline_dbscan``).
    ``unit``: the coordinate unit of columns that do not state theirs (`unit_factor`;
    ``pixel_size_nm`` also serves files in pixels, e.g. Picasso). See `load_model` for the window
    defaults and `miro.data.readers.read_localizations` for ``fmt`` and ``columns``.
    ``output_formats`` (`miro.data.writers.WRITE_FORMATS`) add the labelled localizations as
    ``<stem>.thunderstorm.csv`` (``cluster`` column) and/or ``<stem>.picasso.hdf5`` + ``.yaml``
    (``group`` column), with the MIRO clusters.

    Writes per input ``<stem>.csv`` (all atomically) ``<stem>.labels.csv`` (every input column,
    ``x``, ``y`` in nm, then ``x_squeezed``, ``y_squeezed`` (nm), ``miro_cluster`` (0 =
    non-clustered), ``miro_class`` (most frequent predicted class in the MIRO cluster, 0 for
    non-clustered; only for models with a classification head) and ``dbscan_cluster`` (with a
    baseline); one row per input row, in input order), ``<stem>.clusters_miro.csv`` (+
    ``_dbscan``; see `cluster_table`), ``<stem>.map.png`` (`map_figure`) and
    ``<stem>.histograms.png``. A result where one cluster holds more than `ONE_CLUSTER_SHARE` of
    the localizations is warned about (log and `Applied.warnings`).

    Everything is checked before any squeeze: the options, the checkpoint, every file (a bad one
    raises `miro.data.readers.LocalizationFileError` naming it), two inputs with the same stem,
    and existing outputs (`OutputExistsError` listing them, unless ``force``); a failed check
    leaves ``out_dir`` untouched.
    """
    if clusterer not in CLUSTERERS:
        raise ValueError(f"unknown clusterer {clusterer!r}; choose one of {CLUSTERERS}")
    given = {"dbscan": miro_dbscan, "hdbscan": miro_hdbscan}
    other = next(c for c in CLUSTERERS if c != clusterer)
    if given[other] is not None:
        raise ValueError(f"{other.upper()} parameters given with clusterer {clusterer!r}")
    run = {
        "clusterer": clusterer,
        "miro_params": clustering_params("MIRO", clusterer, given[clusterer]),
        "baseline_dbscan": None
        if baseline_dbscan is None
        else clustering_params("baseline", "dbscan", baseline_dbscan),
        "device": device,
        "batch_size": _positive_int("batch_size", batch_size, 1),
    }
    unknown = sorted(set(output_formats) - set(WRITE_FORMATS))
    if unknown:
        raise ValueError(f"unknown output formats {unknown}; choose from {WRITE_FORMATS}")
    run["output_formats"], run["pixel_size_nm"] = (
        tuple(dict.fromkeys(output_formats)),
        pixel_size_nm,
    )
    how = Reading(
        fmt, columns, unit, unit_factor(unit, pixel_size_nm), pixel_size_nm, run["output_formats"]
    )
    paths = expand_inputs(paths)
    stems = [p.stem for p in paths]
    clash = sorted({s for s in stems if stems.count(s) > 1})
    if clash:
        raise LocalizationFileError(
            f"inputs {[str(p) for p in paths if p.stem in clash]} share a file stem; their "
            "outputs would overwrite each other"
        )
    if Path(out_dir).exists() and not Path(out_dir).is_dir():
        raise ValueError(f"{out_dir}: not a folder (the output folder, --out)")
    existing = [
        str(p)
        for stem in stems
        for p in output_paths(
            stem, out_dir, run["baseline_dbscan"] is not None, run["output_formats"]
        ).values()
        if p.exists()
    ]
    if existing and not force:
        shown = ", ".join(existing[:5]) + (
            f" and {len(existing) - 5} more" if len(existing) > 5 else ""
        )
        raise OutputExistsError(
            f"outputs exist already: {shown}; remove them, choose another --out, or pass --force "
            "(force=True) to overwrite them"
        )
    model, radius, run["window_nm"], run["overlap_nm"] = load_model(
        model_ckpt, window_nm, overlap_nm
    )
    run["model_name"] = _checkpoint_name(Path(model_ckpt))
    radius_nm = radius * run["window_nm"]
    for path in paths:  # validate every file first: a bad one stops the run before any output
        _read(path, how, radius_nm)
    return [_apply(_read(p, how, radius_nm), p.stem, model, radius, out_dir, **run) for p in paths]


def _apply(
    table: pd.DataFrame,
    stem: str,
    model: MIRO,
    radius: float,
    out_dir: str | os.PathLike,
    *,
    clusterer: str,
    miro_params: Mapping,
    baseline_dbscan: Mapping | None,
    window_nm: float,
    overlap_nm: float,
    device: str,
    batch_size: int,
    model_name: str,
    output_formats: tuple[str, ...],
    pixel_size_nm: float | None,
) -> Applied:
    """Squeeze, cluster, describe and write one acquisition already read into ``table``."""
    coords = table[["x", "y"]].to_numpy()
    result = squeeze_large(
        model,
        coords,
        radius,
        window_nm=window_nm,
        overlap_nm=overlap_nm,
        device=device,
        batch_size=batch_size,
    )
    labels = {"MIRO": cluster_labels(result.squeezed_nm, clusterer, miro_params)}
    headings = {"MIRO": f"MIRO + {describe_clustering(clusterer, miro_params)}"}
    if baseline_dbscan is not None:
        labels["DBSCAN"] = dbscan_labels(coords, **baseline_dbscan)
        headings["DBSCAN"] = describe_clustering("dbscan", baseline_dbscan)
    out = table.copy()
    out["x_squeezed"], out["y_squeezed"] = result.squeezed_nm.T
    out["miro_cluster"] = labels["MIRO"]
    if result.class_probs is not None:
        out["miro_class"] = cluster_classes(labels["MIRO"], result.class_probs.argmax(axis=1))
    if "DBSCAN" in labels:
        out["dbscan_cluster"] = labels["DBSCAN"]
    tables = {m: cluster_table(coords, v) for m, v in labels.items()}
    shares = {m: largest_share(v) for m, v in labels.items()}
    names = {"MIRO": f"MIRO + {clusterer.upper()}", "DBSCAN": "DBSCAN"}
    summary = f"{stem}: {len(coords):,} localizations; " + "; ".join(
        f"{names[m]} {len(tables[m]):,} clusters (largest holds {shares[m]:.0%})" for m in labels
    )
    warnings = tuple(
        f"{stem}: one {names[m]} cluster holds {shares[m]:.0%} of the localizations: "
        f"{headings[m]} is too coarse for this acquisition; try a smaller "
        + ("eps" if m == "DBSCAN" or clusterer == "dbscan" else "min_cluster_size")
        + " (docs/apply.md, 'DBSCAN parameters')"
        for m in labels
        if shares[m] > ONE_CLUSTER_SHARE
    )
    log.info("%s", summary)
    for warning in warnings:
        log.warning("%s", warning)
    paths = output_paths(stem, out_dir, "DBSCAN" in labels, output_formats)
    write_csv_atomic(out, paths["labels"])
    for fmt in output_formats:  # for ThunderSTORM / Picasso: the MIRO clusters
        write_localizations(out, paths[fmt], fmt, "miro_cluster", pixel_size_nm)
    write_csv_atomic(tables["MIRO"], paths["clusters_miro"])
    if "DBSCAN" in tables:
        write_csv_atomic(tables["DBSCAN"], paths["clusters_dbscan"])
    title = (
        f"{stem}: model {model_name} (training scale {window_nm:g} nm, connectivity radius "
        f"{radius * window_nm:g} nm)"
    )
    plot_map(coords, labels, paths["map"], headings, title)
    plot_histograms(tables, paths["histograms"], names)
    return Applied(paths=paths, summary=summary, warnings=warnings)


# ----------------------------------------------------------------------------- example input
def simulate_acquisition(
    seed: Iterable[int] | int, family: str = "integrin", n_frames: int = 10_000, **params
) -> pd.DataFrame:
    """A simulated acquisition as a ThunderSTORM export: ``id``, ``frame``, ``x [nm]``,
    ``y [nm]``, rows in frame order, plus the ground truth ``true_cluster`` (0 = non-clustered).

    The FOV comes from `miro.data.simulate.simulate_fov` (default: the integrin-like acquisition of
    the paper's Methods); frames are uniform in 1..``n_frames`` (our choice: the simulators have
    no time axis). Same seed, same table.
    """
    rng = np.random.default_rng(seed)
    fov = simulate_fov(family, rng, **params)
    frame = rng.integers(1, n_frames + 1, len(fov))
    order = np.argsort(frame, kind="stable")
    return pd.DataFrame(
        {
            "id": np.arange(1, len(fov) + 1),
            "frame": frame[order],
            "x [nm]": fov["x"].to_numpy()[order],
            "y [nm]": fov["y"].to_numpy()[order],
            "true_cluster": fov["index"].to_numpy()[order],
        }
    )
