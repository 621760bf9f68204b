"""Apply a trained MIRO to users' own localization files (paper Figs. 4b-e and 5c-f).

An experimental acquisition (e.g. the dSTORM image of integrin α5β1 in HeLa cells of Fig. 4b,
tens of μm across) is much larger than the FOVs MIRO was trained on (10 x 10 μm² for integrin),
and MIRO's graph lives in min-max normalised units: the connectivity radius r means
``r x FOV extent`` nm. So the acquisition is cut into square windows of the training FOV extent
(`tile_windows`), each squeezed on its own with `miro.core.squeeze.squeeze_many` and stitched back
(`squeeze_large`): a window's *core* tiles the plane, its *halo* gives the core's localizations
their neighbours, and every localization keeps the squeezed position of the one window whose core
holds it. DBSCAN then clusters the squeezed localizations (MIRO + DBSCAN) and, as the baseline,
the raw ones; `cluster_table` describes every cluster (size, radius, nearest neighbour: the
histograms of Fig. 4c-e) and `apply_to_files` writes labels, tables and figures.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from scipy.spatial import ConvexHull, QhullError, cKDTree
from tqdm import tqdm

from miro.core.checkpoint import load_checkpoint
from miro.core.model import MIRO
from miro.core.squeeze import SqueezeResult, squeeze_many
from miro.data.labels import cluster_classes
from miro.data.readers import MIN_LOCALIZATIONS, LocalizationFileError, read_localizations
from miro.data.simulate import simulate_fov
from miro.evaluation.dbscan import dbscan_labels
from miro.files import write_csv_atomic
from miro.outputs.figures import METHOD_COLORS, plot_fov, save_figure

log = logging.getLogger(__name__)

INPUT_SUFFIXES = (".csv", ".tsv")  # localization files of an input folder (config apply.input_dir)
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

    Each window (core + halo localizations) is min-max normalised on its own and squeezed with
    `squeeze_many`, ``batch_size`` windows per forward pass; each localization takes its squeezed
    position (and class probabilities) from the window whose core holds it, so the result has
    exactly one row per input row, in input order. Localizations of a window with fewer than 3
    members (too few for a graph) pass through unsqueezed, with all class probability on class 0
    (non-clustered). A FOV smaller than one window is one window: the result equals
    ``squeeze_many(model, [coords], radius)``.
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
            model, [coords[w.members] for w in chunk], radius, device=device, batch_size=batch_size
        )
        for w, result in zip(chunk, results, strict=True):
            keep = np.searchsorted(w.members, w.core)  # core rows within the sorted members
            squeezed[w.core] = result.squeezed_nm[keep]
            if probs is not None:
                probs[w.core] = result.class_probs[keep]
    log.info(
        "squeezed %d localizations in %d windows of %g nm (halo >= %g nm, %d passed through)",
        len(coords),
        len(usable),
        window_nm,
        overlap_nm,
        sum(len(w.core) for w in windows if len(w.members) < MIN_LOCALIZATIONS),
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


# ----------------------------------------------------------------------------- figures
def plot_map(coords: np.ndarray, labels: Mapping[str, np.ndarray], path: str | os.PathLike) -> None:
    """Localization map coloured by cluster, one panel per method (Fig. 4b): clustered
    localizations opaque, non-clustered ones semi-transparent grey."""
    fig = Figure(figsize=(6 * len(labels), 6.3), layout="constrained")
    for ax, (method, values) in zip(
        fig.subplots(1, len(labels), squeeze=False)[0], labels.items(), strict=True
    ):
        title = "MIRO + DBSCAN" if method == "MIRO" else method
        plot_fov(ax, coords, values, f"{title}: {len(np.unique(values[values > 0]))} clusters")
        ax.collections[0].set_alpha(0.3)  # plot_fov draws non-clustered localizations first
    save_figure(fig, path)


def plot_histograms(tables: Mapping[str, pd.DataFrame], path: str | os.PathLike) -> None:
    """Histograms of cluster radius, localizations per cluster and nearest-neighbour distance,
    methods overlaid (Fig. 4c-e); localizations per cluster on a logarithmic y axis."""
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
                label=f"{'MIRO + DBSCAN' if method == 'MIRO' else method} ({len(v)})",
            )
        ax.set_xlabel(label)
        ax.set_ylabel("clusters")
        if column == "n_localizations" and pooled.size:
            ax.set_yscale("log")
    fig.axes[0].legend(frameon=False)
    save_figure(fig, path)


# ----------------------------------------------------------------------------- files
def output_paths(stem: str, out_dir: str | os.PathLike, baseline: bool) -> dict[str, Path]:
    """The files `apply_to_files` writes for an input named ``<stem>.csv``."""
    names = {
        "labels": "labels.csv",
        "clusters_miro": "clusters_miro.csv",
        "clusters_dbscan": "clusters_dbscan.csv",
        "map": "map.png",
        "histograms": "histograms.png",
    }
    if not baseline:
        del names["clusters_dbscan"]
    return {key: Path(out_dir) / f"{stem}.{name}" for key, name in names.items()}


def _dbscan_params(name: str, params: Mapping | None) -> dict | None:
    if params is None:
        return None
    missing = {"eps", "min_samples"} - set(params)
    if missing:
        raise ValueError(f"{name} DBSCAN parameters lack {sorted(missing)}: {dict(params)}")
    return {"eps": float(params["eps"]), "min_samples": int(params["min_samples"])}


def load_model(
    model_ckpt: str | os.PathLike, window_nm: float | None, overlap_nm: float | None
) -> tuple[MIRO, float, float, float]:
    """The checkpoint's model, connectivity radius (normalised) and window geometry in nm.

    ``window_nm`` defaults to the training FOV extent stored in the checkpoint
    (``graph.fov_nm``); ``overlap_nm`` to one connectivity radius in nm (``radius x window``),
    so that every graph edge of a core localization lies inside its window.
    """
    checkpoint = load_checkpoint(Path(model_ckpt))
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


def apply_to_file(
    path: str | os.PathLike, model_ckpt: str | os.PathLike, **options
) -> dict[str, Path]:
    """`apply_to_files` on one file (same keyword ``options``); returns its written paths."""
    return apply_to_files([path], model_ckpt, **options)[0]


def apply_to_files(
    paths: Sequence[str | os.PathLike],
    model_ckpt: str | os.PathLike,
    *,
    miro_dbscan: Mapping[str, float],
    baseline_dbscan: Mapping[str, float] | None = None,
    out_dir: str | os.PathLike,
    fmt: str = "auto",
    columns: Mapping[str, str] | None = None,
    window_nm: float | None = None,
    overlap_nm: float | None = None,
    device: str = "auto",
    batch_size: int = 8,
) -> list[dict[str, Path]]:
    """Squeeze localization files with MIRO (one model load), cluster them and write the
    results to ``out_dir``.

    Writes per input ``<stem>.csv`` (all atomically) ``<stem>.labels.csv`` (every input column,
    then ``miro_cluster`` (0 = non-clustered), ``miro_class`` (most frequent predicted class in
    the MIRO cluster, 0 for non-clustered; only for models with a classification head) and
    ``dbscan_cluster`` (with a baseline); one row per input row, in input order),
    ``<stem>.clusters_miro.csv`` (+ ``_dbscan``; see `cluster_table`), ``<stem>.map.png`` and
    ``<stem>.histograms.png``. Returns the written paths by kind, per input. See `load_model` for
    the window defaults and `miro.data.readers.read_localizations` for ``fmt`` and ``columns``.

    Every file is read and checked before anything is written: a bad file raises
    `miro.data.readers.LocalizationFileError` naming it and leaves ``out_dir`` untouched; so do
    two inputs with the same stem (their outputs would collide).
    """
    paths = [Path(p) for p in paths]
    stems = [p.stem for p in paths]
    clash = sorted({s for s in stems if stems.count(s) > 1})
    if clash:
        raise LocalizationFileError(
            f"inputs {[str(p) for p in paths if p.stem in clash]} share a file stem; their "
            "outputs would overwrite each other"
        )
    run = {
        "miro_dbscan": _dbscan_params("MIRO", miro_dbscan),
        "baseline_dbscan": _dbscan_params("baseline", baseline_dbscan),
        "device": device,
        "batch_size": batch_size,
    }
    model, radius, run["window_nm"], run["overlap_nm"] = load_model(
        model_ckpt, window_nm, overlap_nm
    )
    for path in paths:  # validate every file first: a bad one stops the run before any output
        read_localizations(path, fmt, columns)
    return [
        _apply(read_localizations(p, fmt, columns), p.stem, model, radius, out_dir, **run)
        for p in paths
    ]


def _apply(
    table: pd.DataFrame,
    stem: str,
    model: MIRO,
    radius: float,
    out_dir: str | os.PathLike,
    *,
    miro_dbscan: Mapping[str, float],
    baseline_dbscan: Mapping[str, float] | None,
    window_nm: float,
    overlap_nm: float,
    device: str,
    batch_size: int,
) -> dict[str, Path]:
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
    labels = {"MIRO": dbscan_labels(result.squeezed_nm, **miro_dbscan)}
    if baseline_dbscan is not None:
        labels["DBSCAN"] = dbscan_labels(coords, **baseline_dbscan)
    out = table.copy()
    out["miro_cluster"] = labels["MIRO"]
    if result.class_probs is not None:
        out["miro_class"] = cluster_classes(labels["MIRO"], result.class_probs.argmax(axis=1))
    if "DBSCAN" in labels:
        out["dbscan_cluster"] = labels["DBSCAN"]
    tables = {m: cluster_table(coords, v) for m, v in labels.items()}
    log.info(
        "%s: %d localizations, %s",
        stem,
        len(coords),
        ", ".join(f"{m} {len(t)} clusters" for m, t in tables.items()),
    )
    paths = output_paths(stem, out_dir, baseline="DBSCAN" in labels)
    write_csv_atomic(out, paths["labels"])
    write_csv_atomic(tables["MIRO"], paths["clusters_miro"])
    if "DBSCAN" in tables:
        write_csv_atomic(tables["DBSCAN"], paths["clusters_dbscan"])
    plot_map(coords, labels, paths["map"])
    plot_histograms(tables, paths["histograms"])
    return paths


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
