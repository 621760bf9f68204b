"""Few-shot augmentation: a handful of annotated training FOVs -> many synthetic training graphs.

Paper, Methods "MIRO training and augmentations"; ``docs/reference.md#augmentation``. Every
training structure is centred at its centroid and densified once by doubling it
``num_additions`` times, each copy jittered with Gaussian noise (sd ``jitter_sd``). Every time a
structure is used, a random fraction of the densified cloud is drawn (localization dropout and
addition around the original count), it is randomly rotated and reflected, and placed in a
synthetic unit-square FOV. Background is uniform (no blinking) or resampled from the training FOVs'
own non-clustered localizations (blinking), in which case clusters go into empty cells of a grid.

Conventions:

* Input FOVs are DataFrames with columns ``x``, ``y`` (nm) and the cluster label ``index``
  (a column or the index's name; 0 = background, k > 0 = cluster k), optionally ``class`` (shape
  class per localization) and ``index_coarse`` (coarser multiscale label). Each FOV is min-max
  normalised per axis, as the graph is (``docs/reference.md#graph``).
* Multiscale (paper Figs. 1 and 5): the coarse structures (e.g. NPC rings) are the units that are
  drawn, rotated and placed, carrying their fine spots. ``labels`` are the coarse structures (the
  target of the late steps [k̂, K-1]) and ``early_labels`` the fine spots (the target of the early
  steps [0, k̂-1]): spots must be squeezed before the rings that contain them, as in the reference
  multiscale tutorial (first steps on the corners, the remaining ones on the rings).
* Ranges are inclusive ``(low, high)``. The reference draws counts with ``numpy.randint``, whose
  high end is exclusive; the presets below are converted accordingly.
* Sample ``i`` of seed ``s`` depends only on ``(s, i)``: chunks generated in separate processes
  concatenate to exactly the samples of one run.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, fields, replace
from multiprocessing import get_context
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import torch
from scipy.spatial.distance import pdist
from threadpoolctl import threadpool_limits
from torch_geometric.data import Data

from miro.core.graph import build_graph
from miro.data.labels import consecutive_labels
from miro.data.simulate import sequential_adsorption
from miro.files import write_torch_atomic

# Independent random streams below one seed: SeedSequence(seed, spawn_key=(stream, ...)).
_DENSIFY_STREAM, _SAMPLE_STREAM, _SINGLE_SHOT_STREAM = 0, 1, 2


@dataclass(frozen=True)
class AugmentSettings:
    """Every knob of the augmentation; defaults are the reference non-blinking defaults.

    ``num_additions``/``jitter_sd``: densification of each training structure (doublings, sd in
    normalised units). ``draw_fraction``: fraction of the densified cloud drawn per use.
    ``clusters_per_fov``: structures per synthetic FOV. ``placement``: range of the structure
    centres per axis. ``background``: ``"uniform"`` (``background_count`` points in the unit
    square) or ``"resample"`` (blinking: one training FOV's background densified
    ``background_additions`` times with sd ``background_jitter_sd``, a ``background_fraction``
    drawn, randomly flipped per axis; structures centred in empty cells of a ``grid`` lattice).
    ``min_separation``: least distance between two structure centroids (normalised units; 0, the
    reference: centres independent and uniform, so structures may overlap).
    ``reflect``: mirror half of the structures (the paper names reflections; the reference only
    rotates). ``single_shot``: train from one seeded-random annotated structure (paper,
    Supplementary Table 5).
    """

    num_additions: int = 4
    jitter_sd: float = 0.003
    draw_fraction: tuple[float, float] = (0.055, 0.062)
    clusters_per_fov: tuple[int, int] = (10, 19)
    placement: tuple[float, float] = (0.05, 0.95)
    background: Literal["uniform", "resample"] = "uniform"
    background_count: tuple[int, int] = (150, 249)
    background_additions: int = 4
    background_jitter_sd: float = 0.009
    background_fraction: tuple[float, float] = (0.035, 0.04)
    grid: float = 0.02
    min_separation: float = 0.0
    reflect: bool = True
    single_shot: bool = False

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, tuple) and not (len(value) == 2 and value[0] <= value[1]):
                raise ValueError(
                    f"AugmentSettings.{f.name} must be a (low, high) pair, got {value}"
                )
        if self.background not in ("uniform", "resample"):
            raise ValueError(
                f"AugmentSettings.background must be 'uniform' or 'resample', "
                f"got {self.background!r}"
            )
        if min(self.num_additions, self.background_additions) < 0:
            raise ValueError("AugmentSettings: numbers of additions must be >= 0")
        if min(self.jitter_sd, self.background_jitter_sd) < 0:
            raise ValueError("AugmentSettings: jitter standard deviations must be >= 0")
        for name in ("draw_fraction", "background_fraction"):
            if not 0 < getattr(self, name)[0] <= getattr(self, name)[1] <= 1:
                raise ValueError(f"AugmentSettings.{name} must lie in (0, 1]")
        if self.clusters_per_fov[0] < 1 or self.background_count[0] < 0:
            raise ValueError("AugmentSettings: need >= 1 cluster per FOV and >= 0 background")
        if not 0 <= self.placement[0] <= self.placement[1] <= 1:
            raise ValueError(f"AugmentSettings.placement must lie in [0, 1], got {self.placement}")
        if not 0 < self.grid < 1:
            raise ValueError(f"AugmentSettings.grid must lie in (0, 1), got {self.grid}")
        if not 0 <= self.min_separation < 1:
            raise ValueError(
                f"AugmentSettings.min_separation must lie in [0, 1), got {self.min_separation}"
            )


_BLINKING = AugmentSettings(background="resample")

# Published per-dataset builder settings of the reference implementation (DeepTrackAI/MIRO,
# benchmark/metadata.json), high ends made inclusive; everything else is the reference default
# (AugmentSettings() without blinking, _BLINKING with it). Scenario 9 used a cropping builder
# that is not reproduced here: it falls back to settings_from_data.
_PRESETS: dict[str, AugmentSettings] = {
    "Ground Truth - Scenario 2": replace(
        AugmentSettings(), background_count=(250, 349), clusters_per_fov=(10, 19)
    ),
    "Ground Truth - Scenario 3": replace(
        AugmentSettings(), background_count=(450, 549), clusters_per_fov=(15, 24)
    ),
    "Ground Truth - Scenario 4": replace(
        AugmentSettings(), background_count=(150, 249), clusters_per_fov=(25, 34)
    ),
    "Ground Truth - Scenario 5": replace(
        AugmentSettings(),
        background_count=(750, 849),
        clusters_per_fov=(85, 89),
        draw_fraction=(0.035, 0.035),
        num_additions=5,
    ),
    "Ground Truth - Scenario 6": replace(
        AugmentSettings(), background_count=(450, 549), clusters_per_fov=(10, 19)
    ),
    "Ground Truth - Scenario 7": replace(
        AugmentSettings(), background_count=(150, 249), clusters_per_fov=(15, 24)
    ),
    "Ground Truth - Scenario 8": replace(
        AugmentSettings(),
        background_count=(150, 249),
        clusters_per_fov=(10, 19),
        draw_fraction=(1.0, 1.0),
        jitter_sd=0.0,
        num_additions=0,
    ),
    "Ground Truth - Scenario 10": replace(
        AugmentSettings(), background_count=(150, 249), clusters_per_fov=(10, 19)
    ),
    "Multiple Blinking - Scenario 2": replace(
        _BLINKING, clusters_per_fov=(30, 39), background_fraction=(0.03, 0.03)
    ),
    "Multiple Blinking - Scenario 3": replace(
        _BLINKING, clusters_per_fov=(40, 49), background_fraction=(0.009, 0.009)
    ),
    "Multiple Blinking - Scenario 4": replace(
        _BLINKING,
        clusters_per_fov=(30, 39),
        background_fraction=(0.01, 0.012),
        background_jitter_sd=0.003,
    ),
    "Multiple Blinking - Scenario 5": replace(
        _BLINKING,
        clusters_per_fov=(65, 65),
        background_fraction=(0.3, 0.3),
        draw_fraction=(0.8, 0.95),
        jitter_sd=0.0,
        num_additions=0,
        background_additions=0,
    ),
    "Multiple Blinking - Scenario 6": replace(
        _BLINKING,
        clusters_per_fov=(20, 21),
        background_fraction=(0.4, 0.6),
        draw_fraction=(0.8, 1.0),
        jitter_sd=0.0,
        num_additions=0,
        background_additions=0,
    ),
    "Multiple Blinking - Scenario 7": replace(
        _BLINKING,
        clusters_per_fov=(25, 25),
        background_fraction=(0.4, 0.4),
        draw_fraction=(0.95, 1.0),
        num_additions=0,
        background_additions=0,
    ),
    "Multiple Blinking - Scenario 8": replace(_BLINKING, clusters_per_fov=(30, 39)),
    "Multiple Blinking - Scenario 10": replace(
        _BLINKING, clusters_per_fov=(30, 39), background_jitter_sd=0.004
    ),
}


@dataclass(frozen=True)
class PointCloud:
    """One augmented FOV in normalised units.

    ``labels``: 0 = background, k > 0 = placed structure k (the coarse structure in multiscale
    mode). ``early_labels``: fine spots (multiscale only, 0 = in no spot). ``classes``: shape class
    per localization (0 for background) when the training FOVs carry ``class``. ``sources``: index
    of the training structure each localization was drawn from (``training_structures`` order),
    -1 for background.
    """

    positions: np.ndarray
    labels: np.ndarray
    classes: np.ndarray | None
    early_labels: np.ndarray | None
    sources: np.ndarray


@dataclass(frozen=True)
class Structure:
    """One training structure centred at its centroid (a cluster, or a coarse structure).

    ``fine``: fine label inside the structure (multiscale only; 0 = in no fine cluster).
    """

    offsets: np.ndarray
    fine: np.ndarray | None
    classes: np.ndarray | None

    def take(self, rows: np.ndarray, offsets: np.ndarray | None = None) -> Structure:
        """The rows ``rows`` of this structure, optionally with new offsets."""
        return Structure(
            self.offsets[rows] if offsets is None else offsets,
            None if self.fine is None else self.fine[rows],
            None if self.classes is None else self.classes[rows],
        )


@dataclass(frozen=True)
class TrainingSet:
    """Training structures and backgrounds (normalised units) extracted from the training FOVs.

    ``min_spacing``: the least distance between the centroids of two structures of one training
    FOV (inf when no FOV has two).
    """

    structures: list[Structure]
    backgrounds: list[np.ndarray]
    clusters_per_fov: list[int]
    background_per_fov: list[int]
    min_spacing: float = math.inf


def _labels(fov: pd.DataFrame, name: str, column: str) -> np.ndarray:
    """Integer label column ``column`` of one FOV (``index`` may also be the index's name)."""
    if column in fov.columns:
        values = fov[column].to_numpy()
    elif column == "index" and fov.index.name == "index":
        values = fov.index.to_numpy()
    else:
        raise ValueError(f"{name}: missing column {column!r} (columns: {list(fov.columns)})")
    if not np.issubdtype(values.dtype, np.number) or np.any(values != np.round(values)):
        raise ValueError(f"{name}: column {column!r} must hold integer labels")
    if np.any(values < 0):
        raise ValueError(f"{name}: column {column!r} has negative labels")
    return values.astype(np.int64)


def _normalised(fov: pd.DataFrame, name: str) -> np.ndarray:
    """Min-max normalised (x, y) of one FOV (``docs/reference.md#graph``)."""
    missing = {"x", "y"} - set(fov.columns)
    if missing:
        raise ValueError(f"{name}: missing column(s) {sorted(missing)}")
    xy = fov[["x", "y"]].to_numpy(dtype=float)
    if not np.all(np.isfinite(xy)):
        raise ValueError(f"{name}: x and y must be finite")
    span = xy.max(axis=0) - xy.min(axis=0) if len(xy) else np.zeros(2)
    if np.any(span <= 0):
        raise ValueError(f"{name}: x and y must each span a non-zero range to be normalised")
    return (xy - xy.min(axis=0)) / span


def training_structures(train_fovs: Sequence[pd.DataFrame]) -> TrainingSet:
    """Extract the centred training structures and the backgrounds from the training FOVs."""
    if len(train_fovs) == 0:
        raise ValueError("no training FOVs given")
    optional = {tuple(c for c in ("class", "index_coarse") if c in f.columns) for f in train_fovs}
    if len(optional) > 1:
        raise ValueError(f"training FOVs disagree on the optional columns: {sorted(optional)}")
    structures, backgrounds, counts, bg_counts, spacing = [], [], [], [], math.inf
    for k, fov in enumerate(train_fovs):
        name = f"training FOV {k}" + (f" ({fov.attrs['path']})" if "path" in fov.attrs else "")
        xy = _normalised(fov, name)
        fine = _labels(fov, name, "index")
        coarse = _labels(fov, name, "index_coarse") if "index_coarse" in fov.columns else None
        classes = _labels(fov, name, "class") if "class" in fov.columns else None
        units = fine if coarse is None else coarse
        if coarse is not None:
            _check_nesting(fine, coarse, name)
        is_background = (fine == 0) & (units == 0)
        backgrounds.append(xy[is_background])
        bg_counts.append(int(is_background.sum()))
        ids = np.unique(units[units > 0])
        counts.append(len(ids))
        centroids = np.array([xy[units == unit].mean(axis=0) for unit in ids]).reshape(-1, 2)
        if len(centroids) > 1:
            spacing = min(spacing, float(pdist(centroids).min()))
        for unit in ids:
            rows = np.flatnonzero(units == unit)
            structures.append(
                Structure(
                    xy[rows] - xy[rows].mean(axis=0),
                    None if coarse is None else consecutive_labels(fine[rows], order="sorted"),
                    None if classes is None else classes[rows],
                )
            )
    if not structures:
        raise ValueError("no annotated clusters (label > 0) in the training FOVs")
    return TrainingSet(structures, backgrounds, counts, bg_counts, spacing)


def _check_nesting(fine: np.ndarray, coarse: np.ndarray, name: str) -> None:
    """Every fine cluster must lie inside exactly one coarse structure."""
    pairs = np.unique(np.column_stack([fine, coarse])[fine > 0], axis=0)
    if np.any(pairs[:, 1] == 0):
        raise ValueError(
            f"{name}: fine cluster(s) {np.unique(pairs[pairs[:, 1] == 0, 0]).tolist()} "
            "lie outside any coarse structure ('index_coarse' = 0)"
        )
    fine_ids, n = np.unique(pairs[:, 0], return_counts=True)
    if np.any(n > 1):
        raise ValueError(
            f"{name}: fine cluster(s) {fine_ids[n > 1].tolist()} span several coarse structures"
        )


def settings_from_data(
    train_fovs: Sequence[pd.DataFrame], *, blinking: bool = False
) -> AugmentSettings:
    """Data-driven settings: structures per FOV = observed mean ± 25 %, background = ± 20 %, and
    no two structure centroids closer than the closest two of one training FOV (lowered in a
    synthetic FOV whose structures do not fit at that spacing).

    The spacing keeps the synthetic FOVs as crowded as the annotated ones: with independent
    uniform centres, 60 % of the C-shapes of a synthetic FOV touched another (a point of another
    structure within 50 nm) against 31 % in the simulated FOVs they were drawn from (45 % with
    the spacing; ``benchmarks/bench_augment_spacing.py``), so training was dominated by overlaps
    that the data do not show. The rest are the reference defaults (drawn fraction about the
    original count). With blinking the background is resampled, its drawn fraction chosen so
    that the drawn count is the observed count ± 20 %. Suits families the reference gives no
    settings for (C-shapes, rings, your own data).
    """
    training = training_structures(train_fovs)
    clusters = float(np.mean(training.clusters_per_fov))
    background = float(np.mean(training.background_per_fov))
    per_fov = (max(1, math.floor(0.75 * clusters)), max(1, math.ceil(1.25 * clusters)))
    spacing = training.min_spacing if math.isfinite(training.min_spacing) else 0.0
    if not blinking:
        counts = (math.floor(0.8 * background), math.ceil(1.2 * background))
        return AugmentSettings(
            clusters_per_fov=per_fov, background_count=counts, min_separation=spacing
        )
    dense = 2**_BLINKING.background_additions
    fraction = (min(1.0, 0.8 / dense), min(1.0, 1.2 / dense))
    return replace(
        _BLINKING, clusters_per_fov=per_fov, background_fraction=fraction, min_separation=spacing
    )


def settings_for_benchmark(
    folder: str, train_fovs: Sequence[pd.DataFrame] | None = None
) -> AugmentSettings:
    """Settings for a benchmark folder: the reference's published preset when there is one.

    Otherwise (scenario 9, other datasets) ``settings_from_data`` on ``train_fovs``, with the
    background resampled when the folder name says "Multiple Blinking".
    """
    if folder in _PRESETS:
        return _PRESETS[folder]
    if train_fovs is None:
        raise ValueError(
            f"no augmentation preset for {folder!r} and no training FOVs to derive "
            f"settings from; presets: {sorted(_PRESETS)}"
        )
    return settings_from_data(train_fovs, blinking=folder.startswith("Multiple Blinking"))


def settings_for_dataset(settings: Mapping, train_fovs: Sequence[pd.DataFrame]) -> AugmentSettings:
    """Settings of one resolved dataset (``miro.config.dataset_settings``).

    Benchmark folders: ``settings_for_benchmark``; simulated datasets: ``settings_from_data``,
    with the resampled background when the simulation has ``blinking`` among its params. The
    dataset's ``augment.single_shot`` switches single-shot training on.
    """
    if settings.get("folder"):
        base = settings_for_benchmark(settings["folder"], train_fovs)
    else:
        blinking = bool((settings.get("params") or {}).get("blinking", False))
        base = settings_from_data(train_fovs, blinking=blinking)
    return replace(base, single_shot=bool(settings["augment"].get("single_shot", False)))


def densify(
    points: np.ndarray, additions: int, sd: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Double ``points`` ``additions`` times, each copy jittered (sd ``sd``).

    Returns the densified points and, for each, the row of ``points`` it descends from.
    """
    parents = np.arange(len(points))
    for _ in range(additions):
        points = np.concatenate([points, points + rng.normal(0.0, sd, points.shape)])
        parents = np.concatenate([parents, parents])
    return points, parents


def _count(rng: np.random.Generator, bounds: tuple[int, int]) -> int:
    return int(rng.integers(bounds[0], bounds[1] + 1))


def _drawn(n: int, fraction: tuple[float, float], rng: np.random.Generator) -> np.ndarray:
    """Rows of a random fraction (``round(f n)``, at least 1) of ``n`` rows, without replacement."""
    m = max(1, round(rng.uniform(*fraction) * n))
    return rng.choice(n, m, replace=False)


def _orthogonal(rng: np.random.Generator, reflect: bool) -> np.ndarray:
    """A random rotation, mirrored with probability 1/2 when ``reflect``."""
    angle = rng.uniform(0.0, 2 * np.pi)
    c, s = np.cos(angle), np.sin(angle)
    matrix = np.array([[c, -s], [s, c]])
    if reflect and rng.random() < 0.5:
        matrix = matrix @ np.diag([1.0, -1.0])
    return matrix


class _Sampler:
    """Densified training set + settings + seed: draws sample ``i`` from stream ``(seed, i)``."""

    def __init__(
        self, train_fovs: Sequence[pd.DataFrame], settings: AugmentSettings, seed: int
    ) -> None:
        training = training_structures(train_fovs)
        ids = np.arange(len(training.structures))
        if settings.single_shot:
            stream = np.random.SeedSequence(seed, spawn_key=(_SINGLE_SHOT_STREAM,))
            pick = np.random.default_rng(stream)
            ids = ids[[pick.integers(len(ids))]]
        if settings.background == "resample" and not any(len(b) for b in training.backgrounds):
            raise ValueError(
                "background 'resample' needs non-clustered localizations "
                "(label 0) in the training FOVs"
            )
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(_DENSIFY_STREAM,)))
        self.ids = ids
        self.structures = []
        for i in ids:
            structure = training.structures[i]
            dense, parents = densify(
                structure.offsets, settings.num_additions, settings.jitter_sd, rng
            )
            self.structures.append(structure.take(parents, dense))
        self.backgrounds = [
            densify(b, settings.background_additions, settings.background_jitter_sd, rng)[0]
            for b in training.backgrounds
            if len(b)
        ]
        self.multiscale = training.structures[0].fine is not None
        self.with_classes = training.structures[0].classes is not None
        self.settings = settings
        self.seed = seed

    def __call__(self, i: int) -> PointCloud:
        s = self.settings
        rng = np.random.default_rng(
            np.random.SeedSequence(self.seed, spawn_key=(_SAMPLE_STREAM, i))
        )
        if s.background == "uniform":
            background = rng.uniform(0.0, 1.0, (_count(rng, s.background_count), 2))
            centres = self._uniform_centres(_count(rng, s.clusters_per_fov), rng)
        else:
            background = self._resampled_background(rng)
            centres = self._empty_cells(background, _count(rng, s.clusters_per_fov), rng)
        placed = [self._placed(centre, rng) for centre in centres]
        drawn = [d for _, d, _ in placed]
        sizes = [len(d.offsets) for d in drawn]
        zeros = np.zeros(len(background), np.int64)
        labels = np.repeat(np.arange(1, len(placed) + 1), sizes)
        sources = np.repeat([j for _, _, j in placed], sizes)
        classes = early = None
        if self.with_classes:
            classes = np.concatenate([d.classes for d in drawn] + [zeros])
        if self.multiscale:  # fine labels made unique across structures
            shifts = np.cumsum([0] + [d.fine.max() for d in drawn[:-1]])
            fine = [np.where(d.fine > 0, d.fine + k, 0) for d, k in zip(drawn, shifts, strict=True)]
            early = consecutive_labels(np.concatenate([*fine, zeros]), order="sorted")
        return PointCloud(
            # the clip guards the rounding of the placement only
            positions=np.clip(np.concatenate([p for p, _, _ in placed] + [background]), 0.0, 1.0),
            labels=np.concatenate([labels, zeros]),
            classes=classes,
            early_labels=early,
            sources=np.concatenate([sources, zeros - 1]),
        )

    def _placed(
        self, centre: np.ndarray, rng: np.random.Generator
    ) -> tuple[np.ndarray, Structure, int]:
        """A drawn, rotated (and maybe reflected) structure, shifted to ``centre``.

        The centre is moved inward where needed so that the whole structure lies in [0, 1]^2.
        """
        j = int(rng.integers(len(self.structures)))
        structure = self.structures[j]
        drawn = structure.take(_drawn(len(structure.offsets), self.settings.draw_fraction, rng))
        offsets = drawn.offsets @ _orthogonal(rng, self.settings.reflect).T
        low, high = -offsets.min(axis=0), 1.0 - offsets.max(axis=0)
        if np.any(low > high):
            raise ValueError(f"training structure {self.ids[j]} is wider than the unit FOV")
        return offsets + np.clip(centre, low, high), drawn, int(self.ids[j])

    def _uniform_centres(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` centres uniform over the placement range, ``min_separation`` apart."""
        low, high = self.settings.placement
        if self.settings.min_separation == 0:
            return rng.uniform(low, high, (n, 2))
        separation = self.settings.min_separation
        return _spaced(lambda: rng.uniform(low, high, (500 * n, 2)), n, separation)

    def _resampled_background(self, rng: np.random.Generator) -> np.ndarray:
        """A drawn fraction of one densified training background, flipped per axis at random.

        Flips mirror about the unit square's centre (x -> 1 - x), which keeps the points in
        [0, 1]; the reference mirrors about the background's mean. Jittered copies that left the
        unit square are dropped.
        """
        dense = self.backgrounds[int(rng.integers(len(self.backgrounds)))]
        points = dense[_drawn(len(dense), self.settings.background_fraction, rng)]
        points = np.where(rng.random(2) < 0.5, 1.0 - points, points)
        return points[np.all((points >= 0.0) & (points <= 1.0), axis=1)]

    def _empty_cells(self, background: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
        """Centres of ``n`` random grid cells with no background point, inside the placement."""
        grid, (low, high) = self.settings.grid, self.settings.placement
        cells = math.ceil(1.0 / grid)
        occupied = np.zeros((cells, cells), bool)
        index = np.minimum((background / grid).astype(int), cells - 1)
        occupied[index[:, 0], index[:, 1]] = True
        centres = (np.arange(cells) + 0.5) * grid
        inside = (centres >= low) & (centres <= high)
        ix, iy = np.nonzero(~occupied & inside[:, None] & inside[None, :])
        if len(ix) < n:
            raise ValueError(
                f"only {len(ix)} empty grid cells of size {grid} for {n} clusters; "
                "lower clusters_per_fov or background_fraction"
            )
        if self.settings.min_separation == 0:
            pick = rng.choice(len(ix), n, replace=False)
            return np.column_stack([centres[ix[pick]], centres[iy[pick]]])
        cells = np.column_stack([centres[ix], centres[iy]])
        separation = self.settings.min_separation
        return _spaced(lambda: cells[rng.permutation(len(cells))], n, separation)


def _spaced(candidates: Callable[[], np.ndarray], n: int, separation: float) -> np.ndarray:
    """``n`` of the points ``candidates()`` draws, ``separation`` apart (random sequential
    adsorption); where they do not fit, the separation is lowered by 10 % and new candidates
    drawn until they do, so that a crowded draw never stops the augmentation."""
    while (centres := sequential_adsorption(candidates(), n, separation)) is None:
        separation *= 0.9
    return centres


def augment_point_clouds(
    train_fovs: Sequence[pd.DataFrame],
    n: int,
    settings: AugmentSettings,
    seed: int,
    *,
    start: int = 0,
) -> Iterator[PointCloud]:
    """Augmented point clouds ``start .. start + n - 1`` (each depends only on seed and index)."""
    sampler = _Sampler(train_fovs, settings, seed)
    return (sampler(i) for i in range(start, start + n))


def _graph(cloud: PointCloud, radius: float) -> Data:
    return build_graph(
        cloud.positions,
        radius,
        labels=cloud.labels,
        classes=cloud.classes,
        early_labels=cloud.early_labels,
    )


_worker: tuple[_Sampler, float] | None = None


def _init_worker(sampler: _Sampler, radius: float) -> None:
    """One thread per worker process (BLAS threads spin and oversubscribe the cores)."""
    global _worker
    torch.set_num_threads(1)
    threadpool_limits(1)
    _worker = (sampler, radius)


def _graphs_bytes(indices: np.ndarray) -> bytes:
    """Graphs of one chunk, serialised (many small tensors travel badly between processes)."""
    sampler, radius = _worker
    buffer = io.BytesIO()
    torch.save([_graph(sampler(int(i)), radius) for i in indices], buffer)
    return buffer.getvalue()


def augment_graphs(
    train_fovs: Sequence[pd.DataFrame],
    n: int,
    settings: AugmentSettings,
    seed: int,
    radius: float,
    *,
    start: int = 0,
    n_jobs: int = 1,
) -> list[Data]:
    """Graphs (``miro.core.graph.build_graph``) of augmented point clouds ``start .. start + n -
    1``.

    ``n_jobs`` > 1 builds chunks in a process pool (start method ``forkserver``; as with
    ``spawn``, a calling script must keep its top-level code under ``if __name__ ==
    "__main__"``); the result does not depend on ``n_jobs``. Workflow rules run chunks as
    separate single-threaded jobs (``start``) instead.
    """
    if n < 0 or n_jobs < 1:
        raise ValueError(f"need n >= 0 and n_jobs >= 1, got n={n}, n_jobs={n_jobs}")
    sampler = _Sampler(train_fovs, settings, seed)
    if n_jobs == 1 or n < 2:
        return [_graph(sampler(i), radius) for i in range(start, start + n)]
    chunks = np.array_split(np.arange(start, start + n), min(n, 4 * n_jobs))
    context = get_context("forkserver")  # fork is unsafe once torch has started threads
    context.set_forkserver_preload([__name__])  # workers fork with torch already imported
    with ProcessPoolExecutor(
        n_jobs,
        mp_context=context,
        initializer=_init_worker,
        initargs=(sampler, radius),
    ) as pool:
        parts = list(pool.map(_graphs_bytes, chunks))
    return [g for part in parts for g in torch.load(io.BytesIO(part), weights_only=False)]


def save_graphs(graphs: list[Data], path: str | Path) -> None:
    """``torch.save`` a list of graphs atomically; the same graphs give the same bytes."""
    write_torch_atomic(list(graphs), path)


def load_graphs(path: str | Path) -> list[Data]:
    """Load graphs written by ``save_graphs``.

    Uses ``weights_only=False`` (``Data`` objects are not plain tensors): only load files this
    workflow wrote itself, never untrusted ones.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"graph file not found: {path}")
    graphs = torch.load(path, weights_only=False)
    if not isinstance(graphs, list) or not all(isinstance(g, Data) for g in graphs):
        raise ValueError(f"{path}: expected a list of torch_geometric Data objects")
    return graphs
