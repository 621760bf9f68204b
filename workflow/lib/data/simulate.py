"""Seeded, vectorised SMLM simulators (paper, Methods "Simulated data").

Every simulator takes a ``numpy.random.Generator`` plus keyword parameters whose defaults are the
paper's numbers, and returns one field of view (FOV) as a DataFrame in the benchmark's format:
``x``, ``y`` (nm), ``index`` (0 = non-clustered, k > 0 = cluster k), plus ``class`` (shape class of
each localization, 1..C in the order of ``shapes``, 0 = non-clustered) for the shape mixtures and
``index_coarse`` (ring / NPC label) for the multiscale structures, whose ``index`` is the spot
(corner) label. Clusters are listed first, then the non-clustered localizations, as in the
benchmark files.

Families (:data:`SIMULATORS`): ``benchmark`` (Scenarios 2-10 of Nieves et al., with and without
blinking), ``c_shaped``, ``rings``, ``multishape``, ``adjacent_pairs``, ``multiscale_rings``,
``npc`` and ``integrin``. Parameters the paper leaves open were measured on the benchmark copy
(``benchmarks/bench_simulate_fidelity.py`` checks the result) or are our choices; each is marked
where it is defined, the benchmark scenarios' with a source per value in
``resources/benchmark_simulation.csv`` (:data:`SCENARIOS`). :mod:`miro.data.calibrate` estimates
the benchmark family's settings from any labelled folder.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from miro.data.labels import consecutive_labels
from miro.files import write_csv_atomic

SHAPE_KINDS = ("spot", "ellipse", "ring", "c_shape")


# ----------------------------------------------------------------------------- validation
def _numbers(name: str, value) -> np.ndarray:
    try:
        out = np.asarray(value, dtype=float).ravel()
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be numeric, got {value!r}") from None
    if not np.all(np.isfinite(out)):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return out


def _number(name: str, value: float, low: float, high: float = np.inf, *, open_low: bool = False):
    """``value`` as float, checked to lie in [low, high] ((low, high] with ``open_low``)."""
    numbers = _numbers(name, value)
    if numbers.size != 1:
        raise ValueError(f"{name} must be a single number, got {value!r}")
    v = float(numbers[0])
    if v < low or v > high or (open_low and v == low):
        interval = f"{'(' if open_low else '['}{low}, {high}]"
        raise ValueError(f"{name} must lie in {interval}, got {value!r}")
    return v


def _integer(name: str, value: int, low: int) -> int:
    v = _number(name, value, low)
    if v != int(v):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    return int(v)


def _positive(name: str, value: float) -> float:
    return _number(name, value, 0.0, open_low=True)


def _non_negative(name: str, value: float) -> float:
    return _number(name, value, 0.0)


def _fraction(name: str, value: float) -> float:
    """A fraction in [0, 1)."""
    v = _number(name, value, 0.0, 1.0)
    if v == 1:
        raise ValueError(f"{name} must be below 1, got {value!r}")
    return v


def _range(name: str, value: Sequence[float] | float, minimum: float = 0) -> tuple[float, float]:
    """A ``(low, high)`` range; a single number means ``(value, value)``."""
    numbers = _numbers(name, value)
    if numbers.size not in (1, 2):
        raise ValueError(f"{name} must be a number or a range (low, high), got {value!r}")
    low, high = numbers[0], numbers[-1]
    if low < minimum or high < low:
        raise ValueError(
            f"{name} must be a range (low, high) with {minimum} <= low <= high, got {value!r}"
        )
    return float(low), float(high)


def _int_range(name: str, value: Sequence[int] | int, minimum: int = 0) -> tuple[int, int]:
    low, high = _range(name, value, minimum)
    if low != int(low) or high != int(high):
        raise ValueError(f"{name} must be a range of integers, got {value!r}")
    return int(low), int(high)


def _build(cls: type, spec):
    """``spec`` if already a ``cls``, else ``cls(**spec)`` (a mapping, e.g. from the config)."""
    if isinstance(spec, cls):
        return spec
    if not isinstance(spec, Mapping):
        raise ValueError(f"expected a {cls.__name__} or a mapping of its fields, got {spec!r}")
    fields = set(cls.__dataclass_fields__)
    if set(spec) - fields:
        raise ValueError(f"unknown {cls.__name__} field(s) {sorted(set(spec) - fields)}")
    try:
        return cls(**spec)
    except TypeError as error:
        raise ValueError(f"{cls.__name__} {dict(spec)}: {error}") from None


def _draw_int(rng: np.random.Generator, bounds: tuple[int, int], size=None):
    """Uniform integers in ``[low, high]`` (both inclusive, as the paper's "between a and b")."""
    return rng.integers(bounds[0], bounds[1] + 1, size=size)


# ----------------------------------------------------------------------------- building blocks
def _rotate(offsets: np.ndarray, angles: np.ndarray) -> np.ndarray:
    cos, sin = np.cos(angles), np.sin(angles)
    x, y = offsets[:, 0], offsets[:, 1]
    return np.column_stack([cos * x - sin * y, sin * x + cos * y])


def _gaussian_offsets(
    rng: np.random.Generator, counts: np.ndarray, sd: np.ndarray, sd_minor: np.ndarray
) -> np.ndarray:
    """2-D normal offsets, ``counts[k]`` per cluster, axis sds ``(sd, sd_minor)[k]`` at a random
    orientation per cluster."""
    scale = np.repeat(np.column_stack([sd, sd_minor]), counts, axis=0)
    angle = np.repeat(rng.uniform(0, 2 * np.pi, len(counts)), counts)
    return _rotate(rng.standard_normal((int(counts.sum()), 2)) * scale, angle)


def _arc_offsets(
    rng: np.random.Generator, counts: np.ndarray, radius: float, radial_sd: float, arc: float
) -> np.ndarray:
    """Points at uniform angles over an arc of ``arc`` radians (2 pi: ring, pi: C shape, the
    paper's "semicircles"), random orientation per cluster, radius ``N(radius, radial_sd)``."""
    start = np.repeat(rng.uniform(0, 2 * np.pi, len(counts)), counts)
    theta = start + rng.uniform(0, arc, int(counts.sum()))
    r = radius + radial_sd * rng.standard_normal(theta.size)
    return np.column_stack([r * np.cos(theta), r * np.sin(theta)])


def place_centres(
    rng: np.random.Generator,
    n: int,
    fov_size: float,
    margin: float = 0.0,
    min_separation: float = 0.0,
    max_candidates: int = 500,
) -> np.ndarray:
    """``n`` points uniform in ``[margin, fov_size - margin]^2``, at least ``min_separation`` apart
    (`sequential_adsorption` over ``max_candidates * n`` candidates). Raises ValueError when they
    do not fit."""
    if fov_size - 2 * margin <= 0:
        raise ValueError(f"margin {margin} nm leaves no room in a {fov_size} nm FOV")
    if min_separation <= 0 or n <= 1:
        return rng.uniform(margin, fov_size - margin, size=(n, 2))
    candidates = rng.uniform(margin, fov_size - margin, size=(max_candidates * n, 2))
    accepted = sequential_adsorption(candidates, n, min_separation)
    if accepted is None:
        raise ValueError(
            f"cannot place {n} structures {min_separation} nm apart in a {fov_size} nm FOV "
            f"(margin {margin} nm); lower their number or separation"
        )
    return accepted


def sequential_adsorption(
    candidates: np.ndarray, n: int, min_separation: float
) -> np.ndarray | None:
    """The first ``n`` of ``candidates`` (in order) that lie at least ``min_separation`` from every
    point accepted before them (random sequential adsorption when the candidates are random);
    None when fewer than ``n`` fit. A cheap loop over candidates."""
    accepted = np.empty((n, 2))
    k = 0
    for point in candidates:
        if k == n:
            break
        if k == 0 or np.min(np.sum((accepted[:k] - point) ** 2, axis=1)) >= min_separation**2:
            accepted[k] = point
            k += 1
    return accepted if k == n else None


def _uniform_background(rng: np.random.Generator, n: int, fov_size: float) -> np.ndarray:
    return rng.uniform(0, fov_size, size=(n, 2))


def _n_background(n_clustered: int, fraction: float) -> int:
    """Non-clustered count that makes up ``fraction`` of all localizations."""
    return round(n_clustered * fraction / (1 - fraction))


def _inside(xy: np.ndarray, fov_size: float) -> np.ndarray:
    return np.all((xy >= 0) & (xy <= fov_size), axis=1)


def _crop(
    xy: np.ndarray, labels: Mapping[str, np.ndarray], fov_size: float
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Drop clustered localizations outside the FOV (the paper's images are crops) and renumber
    the label levels, so that no label is empty."""
    keep = _inside(xy, fov_size)
    return xy[keep], {
        name: consecutive_labels(v[keep], order="appearance")
        if name.startswith("index")
        else v[keep]
        for name, v in labels.items()
    }


def _frame(
    clustered: np.ndarray, labels: Mapping[str, np.ndarray], background: np.ndarray
) -> pd.DataFrame:
    """Clusters, then background, as a benchmark-format DataFrame (labels 0 for background)."""
    columns = {
        "x": np.r_[clustered[:, 0], background[:, 0]],
        "y": np.r_[clustered[:, 1], background[:, 1]],
    }
    for name, values in labels.items():
        columns[name] = np.r_[values, np.zeros(len(background), dtype=np.int64)].astype(np.int64)
    return pd.DataFrame(columns)


def _finish(
    rng: np.random.Generator,
    xy: np.ndarray,
    labels: Mapping[str, np.ndarray],
    fov_size: float,
    background_fraction: float,
) -> pd.DataFrame:
    """Crop the clusters to the FOV and add uniform background, ``background_fraction`` of all
    localizations."""
    xy, labels = _crop(xy, labels, fov_size)
    n_background = _n_background(len(xy), background_fraction)
    return _frame(xy, labels, _uniform_background(rng, n_background, fov_size))


# ----------------------------------------------------------------------------- Scenarios 2-10
@dataclass(frozen=True)
class ClusterGroup:
    """``n_clusters`` Gaussian clusters of ``molecules`` each, sd ``sd`` nm (the benchmark's
    "cluster width") along the major axis and ``sd_minor`` across it (None: isotropic)."""

    n_clusters: int
    molecules: int
    sd: float = 25.0
    sd_minor: float | None = None

    def __post_init__(self) -> None:
        _integer("n_clusters", self.n_clusters, 0)
        _integer("molecules", self.molecules, 1)
        _positive("cluster sd", self.sd)
        if self.sd_minor is not None:
            _positive("cluster sd_minor", self.sd_minor)


@dataclass(frozen=True)
class Scenario:
    """The simulation settings of one benchmark scenario (paper, Methods "Simulated data"):
    its cluster groups, the fraction of clustered molecules, whether the non-clustered density
    rises linearly from left to right, and the blinking model of its "Multiple Blinking" folder;
    ``sources`` says where each value comes from (parameter, or ``group<k>.<field>``)."""

    groups: tuple[ClusterGroup, ...]
    clustered_fraction: float
    background_gradient: bool
    blinks_per_molecule: float
    localization_precision: float
    sources: Mapping[str, str]


SCENARIO_TABLE = Path(__file__).resolve().parents[3] / "resources" / "benchmark_simulation.csv"
_GROUP_FIELDS = ("n_clusters", "molecules", "sd", "sd_minor")
_SCENARIO_FIELDS = (
    "clustered_fraction",
    "background_gradient",
    "blinks_per_molecule",
    "localization_precision",
)


def load_scenarios(path: str | os.PathLike = SCENARIO_TABLE) -> dict[int, Scenario]:
    """Read the per-scenario settings table (``resources/benchmark_simulation.csv``).

    One row per value: ``scenario``, ``group`` (1, 2, ... for a :class:`ClusterGroup` field,
    empty for a scenario-wide one), ``parameter``, ``value`` and its ``source`` (the paper, the
    spec, or what was measured on which benchmark folder). Every problem raises ValueError naming
    ``path``.
    """
    try:
        table = pd.read_csv(path, dtype={"parameter": str, "source": str})
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise ValueError(f"{path}: cannot read the scenario table ({err})") from err
    columns = ["scenario", "group", "parameter", "value", "source"]
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ValueError(f"{path}: scenario table lacks columns {missing}")
    if table["source"].isna().any() or (table["source"].str.strip() == "").any():
        row = table[table["source"].isna() | (table["source"].str.strip() == "")].iloc[0]
        raise ValueError(f"{path}: scenario {row['scenario']} {row['parameter']} has no source")
    duplicated = table.duplicated(["scenario", "group", "parameter"])
    if duplicated.any():
        row = table[duplicated].iloc[0]
        raise ValueError(f"{path}: scenario {row['scenario']} {row['parameter']} is listed twice")
    scenarios = {}
    for number, rows in table.groupby("scenario", sort=True):
        where = f"{path}: scenario {number}"
        wide = rows[rows["group"].isna()].set_index("parameter")
        unknown = sorted(set(wide.index) - set(_SCENARIO_FIELDS))
        absent = sorted(set(_SCENARIO_FIELDS) - set(wide.index))
        if unknown or absent:
            raise ValueError(f"{where}: unknown parameters {unknown}, missing {absent}")
        sources = {name: wide.at[name, "source"] for name in _SCENARIO_FIELDS}
        groups = []
        for k, group in rows[rows["group"].notna()].groupby("group", sort=True):
            fields = group.set_index("parameter")
            unknown = sorted(set(fields.index) - set(_GROUP_FIELDS))
            if unknown:
                raise ValueError(f"{where} group {int(k)}: unknown parameters {unknown}")
            values = fields["value"].astype(float).to_dict()
            try:
                groups.append(
                    ClusterGroup(
                        **{
                            p: int(v) if p in ("n_clusters", "molecules") and v == int(v) else v
                            for p, v in values.items()
                        }
                    )
                )
            except (TypeError, ValueError) as err:
                raise ValueError(f"{where} group {int(k)}: {err}") from None
            sources |= {f"group{int(k)}.{p}": fields.at[p, "source"] for p in fields.index}
        if not groups:
            raise ValueError(f"{where}: no cluster group")
        value = wide["value"].astype(float)
        try:
            scenarios[int(number)] = Scenario(
                groups=tuple(groups),
                clustered_fraction=_number(
                    "clustered_fraction", value["clustered_fraction"], 0.0, 1.0, open_low=True
                ),
                background_gradient=bool(value["background_gradient"]),
                blinks_per_molecule=_positive("blinks_per_molecule", value["blinks_per_molecule"]),
                localization_precision=_positive(
                    "localization_precision", value["localization_precision"]
                ),
                sources=sources,
            )
        except ValueError as err:
            raise ValueError(f"{where}: {err}") from None
    return scenarios


#: Scenarios 2-10 (:func:`load_scenarios`): the paper's counts and fractions; cluster sds
#: measured on the benchmark (Scenario 3's clusters are tighter, 15 nm, than the 25 nm of the
#: others although the paper describes it as Scenario 2); the blinking model as measured on
#: Scenarios 6 and 8. ``benchmarks/bench_simulate_fidelity.py`` checks them against the folders.
SCENARIOS: dict[int, Scenario] = load_scenarios()


def simulate_benchmark(
    rng: np.random.Generator,
    scenario: int = 8,
    blinking: bool = False,
    *,
    groups: Sequence[ClusterGroup | Mapping] | None = None,
    clustered_fraction: float | None = None,
    background_gradient: bool | None = None,
    fov_size: float = 2000.0,
    blinks_per_molecule: float | None = None,
    localization_precision: float | None = None,
) -> pd.DataFrame:
    """One FOV of benchmark Scenario 2-10 (paper, Methods "Simulated data"; Nieves et al. 2023).

    Cluster centres are uniform over the FOV, overlaps allowed, and molecules may fall outside it
    (as in the "Ground Truth" folders: clusters' closest centroids are 3 nm apart, coordinates
    span -73 to 2090 nm). Non-clustered molecules are uniform, ``clustered_fraction`` of all
    molecules being clustered; with ``background_gradient`` (Scenario 10) their density rises
    linearly from left to right. FOVs are 2000 x 2000 nm^2 (spec README).

    Blinking: each molecule gives a geometric number of localizations on {0, 1, ...} with mean
    ``blinks_per_molecule``, each normal around it with sd ``localization_precision``; those
    outside the FOV are dropped (the "Multiple Blinking" folders lie in [0, 2000] nm). Measured by
    matching each blinking FOV to the ground-truth FOV of the same number (its molecules): over
    isolated non-clustered molecules of Scenarios 6 and 8, 20 % give no localization and the
    mean is 3.9-4.0 with variance 18-20 (geometric: P0 = 0.20, variance 20); offsets have sd
    13.5 nm per axis. The paper's "4-5 on average" matches the 5.0 of the emitting molecules.

    Every setting left None is the scenario's (:data:`SCENARIOS`, with its source).
    """
    if scenario not in SCENARIOS:
        raise ValueError(f"unknown benchmark scenario {scenario!r}; choose from {list(SCENARIOS)}")
    defaults = SCENARIOS[scenario]
    groups = tuple(_build(ClusterGroup, g) for g in (defaults.groups if groups is None else groups))
    fraction = defaults.clustered_fraction if clustered_fraction is None else clustered_fraction
    fraction = _number("clustered_fraction", fraction, 0.0, 1.0, open_low=True)
    gradient = defaults.background_gradient if background_gradient is None else background_gradient
    fov_size = _positive("fov_size", fov_size)

    counts = np.concatenate([np.full(g.n_clusters, g.molecules) for g in groups])
    sd = np.concatenate([np.full(g.n_clusters, g.sd) for g in groups])
    sd_minor = np.concatenate([np.full(g.n_clusters, g.sd_minor or g.sd) for g in groups])
    centres = place_centres(rng, len(counts), fov_size)
    molecules = np.repeat(centres, counts, axis=0) + _gaussian_offsets(rng, counts, sd, sd_minor)
    labels = np.repeat(np.arange(1, len(counts) + 1), counts)

    n_background = round(counts.sum() * (1 - fraction) / fraction)
    background = _uniform_background(rng, n_background, fov_size)
    if gradient:  # density proportional to x: inverse-CDF sampling
        background[:, 0] = fov_size * np.sqrt(rng.uniform(0, 1, n_background))
    if not blinking:
        return _frame(molecules, {"index": labels}, background)

    if localization_precision is None:
        localization_precision = defaults.localization_precision
    if blinks_per_molecule is None:
        blinks_per_molecule = defaults.blinks_per_molecule
    precision = _positive("localization_precision", localization_precision)
    p = 1 / (1 + _positive("blinks_per_molecule", blinks_per_molecule))

    def blink(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Localizations of ``points`` and, for each, the row of its molecule."""
        n = rng.geometric(p, len(points)) - 1
        xy = np.repeat(points, n, axis=0) + precision * rng.standard_normal((int(n.sum()), 2))
        return xy, np.repeat(np.arange(len(points)), n)

    clustered, molecule = blink(molecules)
    clustered, kept = _crop(clustered, {"index": labels[molecule]}, fov_size)
    background = blink(background)[0]
    return _frame(clustered, kept, background[_inside(background, fov_size)])


# ----------------------------------------------------------------------------- shaped clusters
@dataclass(frozen=True)
class Shape:
    """A cluster shape: ``spot`` (isotropic Gaussian, sd ``sd``), ``ellipse`` (Gaussian, sd ``sd``
    x ``sd_minor``), ``ring`` / ``c_shape`` (circle / semicircle of radius ``radius``, radial sd
    ``sd``), each at a random orientation; ``locs`` localizations per cluster, uniform integers."""

    kind: str
    sd: float
    locs: tuple[int, int]
    radius: float = 0.0
    sd_minor: float | None = None

    def __post_init__(self) -> None:
        if self.kind not in SHAPE_KINDS:
            raise ValueError(f"unknown shape kind {self.kind!r}; choose from {SHAPE_KINDS}")
        _positive(f"{self.kind} sd", self.sd)
        object.__setattr__(self, "locs", _int_range(f"{self.kind} locs", self.locs, 1))
        if self.kind in ("ring", "c_shape"):
            _positive(f"{self.kind} radius", self.radius)
        if self.sd_minor is not None:
            _positive(f"{self.kind} sd_minor", self.sd_minor)

    @property
    def core(self) -> float:
        """Radius of the shape's body: the circle, or 2 sd along the major axis."""
        return self.radius if self.kind in ("ring", "c_shape") else 2 * self.sd

    def offsets(self, rng: np.random.Generator, counts: np.ndarray) -> np.ndarray:
        """Positions relative to the cluster centre, ``counts[k]`` for cluster k, concatenated."""
        if self.kind in ("ring", "c_shape"):
            arc = 2 * np.pi if self.kind == "ring" else np.pi
            return _arc_offsets(rng, counts, self.radius, self.sd, arc)
        sd_minor = self.sd if self.sd_minor is None else self.sd_minor
        k = len(counts)
        return _gaussian_offsets(rng, counts, np.full(k, self.sd), np.full(k, sd_minor))


# C shapes and rings: the paper's numbers. Spots and ellipses (the paper gives no sizes for Fig. 3):
# our choice, at the scale of the rings so that classes differ by shape more than by size: spot
# sd 50 nm; ellipse sd 120 x 40 nm, the 3:1 aspect ratio the paper quotes for Scenario 6; their
# localization counts span the C-shape and ring ranges.
SHAPES: dict[str, Shape] = {
    "spot": Shape("spot", 50.0, (30, 60)),
    "ellipse": Shape("ellipse", 120.0, (60, 80), sd_minor=40.0),
    "ring": Shape("ring", 50.0, (60, 80), radius=250.0),
    "c_shape": Shape("c_shape", 50.0, (30, 60), radius=250.0),
}


def _shape(spec: str | Shape | Mapping) -> Shape:
    if isinstance(spec, str):
        if spec not in SHAPES:
            raise ValueError(f"unknown shape {spec!r}; choose from {list(SHAPES)}")
        return SHAPES[spec]
    return _build(Shape, spec)


def simulate_shapes(
    rng: np.random.Generator,
    shapes: Sequence[str | Shape | Mapping] = ("spot", "ellipse"),
    *,
    n_clusters: Sequence[int] | int = (15, 30),
    fov_size: float = 6400.0,
    background_fraction: float = 0.05,
    min_separation: float | None = None,
) -> pd.DataFrame:
    """A mixture of shaped clusters with their shape ``class`` (paper, Fig. 3): ``n_clusters``
    clusters of each shape (uniform integers; our choice, the paper gives no number), centres
    uniform, ``min_separation`` apart (default: twice the largest shape's core radius, so that
    bodies do not overlap) and at least core + 2 sd from the edges; uniform background,
    ``background_fraction`` of all localizations (5 %, our choice between the C-shape 6 % and
    ring 7 %). Clustered localizations outside the FOV are dropped. ``class`` = 1-based
    position of the shape in ``shapes``."""
    shapes = [_shape(s) for s in shapes]
    if not shapes:
        raise ValueError("shapes must name at least one shape")
    bounds = _int_range("n_clusters", n_clusters)
    fov_size = _positive("fov_size", fov_size)
    fraction = _fraction("background_fraction", background_fraction)
    core = max(s.core for s in shapes)
    margin = max(s.core + 2 * s.sd for s in shapes)
    separation = (
        2 * core if min_separation is None else _non_negative("min_separation", min_separation)
    )

    per_shape = _draw_int(rng, bounds, len(shapes))
    kinds = np.repeat(np.arange(len(shapes)), per_shape)
    centres = rng.permutation(place_centres(rng, kinds.size, fov_size, margin, separation))
    counts = np.concatenate(
        [_draw_int(rng, s.locs, n) for s, n in zip(shapes, per_shape, strict=True)]
    )
    offsets = [s.offsets(rng, counts[kinds == c]) for c, s in enumerate(shapes)]
    xy = np.repeat(centres, counts, axis=0) + np.concatenate(offsets)
    labels = {
        "index": np.repeat(np.arange(1, kinds.size + 1), counts),
        "class": np.repeat(kinds + 1, counts),
    }
    return _finish(rng, xy, labels, fov_size, fraction)


def simulate_c_shaped(
    rng: np.random.Generator,
    *,
    n_clusters: Sequence[int] | int = (30, 60),
    radius: float = 250.0,
    radial_sd: float = 50.0,
    locs: Sequence[int] | int = (30, 60),
    background_fraction: float = 0.06,
    fov_size: float = 6400.0,
    min_separation: float | None = None,
) -> pd.DataFrame:
    """C-shaped clusters (paper, Methods): 30-60 semicircles of radius 250 nm, radial sd 50 nm,
    30-60 localizations each, background 6 % of localizations, 6400 x 6400 nm^2. Placement as
    :func:`simulate_shapes`."""
    shape = Shape("c_shape", radial_sd, locs, radius=radius)
    return simulate_shapes(
        rng,
        [shape],
        n_clusters=n_clusters,
        fov_size=fov_size,
        background_fraction=background_fraction,
        min_separation=min_separation,
    ).drop(columns="class")


def simulate_rings(
    rng: np.random.Generator,
    *,
    n_clusters: Sequence[int] | int = (60, 70),
    radius: float = 250.0,
    radial_sd: float = 50.0,
    locs: Sequence[int] | int = (60, 80),
    background_fraction: float = 0.07,
    fov_size: float = 6400.0,
    min_separation: float | None = None,
) -> pd.DataFrame:
    """Ring-shaped clusters (paper, Methods): 60-70 circles of radius 250 nm, radial sd 50 nm,
    60-80 localizations each, background 7 % of localizations, 6400 x 6400 nm^2. Placement as
    :func:`simulate_shapes`."""
    shape = Shape("ring", radial_sd, locs, radius=radius)
    return simulate_shapes(
        rng,
        [shape],
        n_clusters=n_clusters,
        fov_size=fov_size,
        background_fraction=background_fraction,
        min_separation=min_separation,
    ).drop(columns="class")


# ------------------------------------------------------------------ Gaussian nanoclusters
def simulate_adjacent_pairs(
    rng: np.random.Generator,
    distance: float = 2.0,
    *,
    sd: float = 25.0,
    mean_locs: float = 90.0,
    n_pairs: int = 5,
    fov_size: float = 2000.0,
    background_fraction: float = 0.05,
) -> pd.DataFrame:
    """Pairs of adjacent Gaussian clusters (paper, Fig. 4a and Methods): sd ``sd`` = sigma =
    25 nm, localizations per cluster geometric (on 1, 2, ...) with mean 90, centres ``distance``
    sigma apart (the paper scans 0.5-5 sigma) along a random direction. Our choices: ``n_pairs``
    pairs per FOV, pair midpoints at least ``distance`` + 10 sigma apart and 4 sigma + half the
    distance from the edges, so that only the two clusters of a pair interact; background 5 %.
    Pair p holds clusters 2p + 1 and 2p + 2."""
    distance = _positive("distance", distance) * _positive("sd", sd)
    mean_locs = _number("mean_locs", mean_locs, 1.0)
    n_pairs = _integer("n_pairs", n_pairs, 1)
    fov_size = _positive("fov_size", fov_size)
    fraction = _fraction("background_fraction", background_fraction)
    midpoints = place_centres(rng, n_pairs, fov_size, distance / 2 + 4 * sd, distance + 10 * sd)
    angle = rng.uniform(0, 2 * np.pi, n_pairs)
    half = 0.5 * distance * np.column_stack([np.cos(angle), np.sin(angle)])
    centres = np.stack([midpoints - half, midpoints + half], axis=1).reshape(-1, 2)
    counts = rng.geometric(1 / mean_locs, 2 * n_pairs)
    xy = np.repeat(centres, counts, axis=0) + sd * rng.standard_normal((int(counts.sum()), 2))
    labels = {"index": np.repeat(np.arange(1, 2 * n_pairs + 1), counts)}
    return _finish(rng, xy, labels, fov_size, fraction)


def simulate_integrin(
    rng: np.random.Generator,
    *,
    n_clusters: Sequence[int] | int = (100, 200),
    sd: Sequence[float] | float = (25.0, 40.0),
    mean_locs: float = 25.0,
    background_fraction: float = 0.04,
    fov_size: float = 10_000.0,
) -> pd.DataFrame:
    """Integrin-like nanoclusters (paper, Methods, training data for Fig. 4b): Gaussian clusters
    with sd uniform in 25-40 nm, localizations per cluster geometric (on 1, 2, ...) with mean 25,
    background 4 % of localizations, 10,000 x 10,000 nm^2. The paper gives no number of clusters
    per image: 100-200 is our choice. Centres are uniform (nanoclusters may be adjacent);
    clustered localizations outside the FOV are dropped.

    The paper's two background figures disagree: 4 % of localizations is 60 % of structures only
    with about 36 localizations per cluster, not 25."""
    bounds = _int_range("n_clusters", n_clusters, 1)
    sd_bounds = _range("sd", sd)
    _positive("sd", sd_bounds[0])
    mean_locs = _number("mean_locs", mean_locs, 1.0)
    fov_size = _positive("fov_size", fov_size)
    fraction = _fraction("background_fraction", background_fraction)
    k = int(_draw_int(rng, bounds))
    centres = place_centres(rng, k, fov_size)
    sds = rng.uniform(*sd_bounds, k)
    counts = rng.geometric(1 / mean_locs, k)
    xy = np.repeat(centres, counts, axis=0) + _gaussian_offsets(rng, counts, sds, sds)
    return _finish(rng, xy, {"index": np.repeat(np.arange(1, k + 1), counts)}, fov_size, fraction)


# ----------------------------------------------------------------------------- multiscale
def simulate_multiscale_rings(
    rng: np.random.Generator,
    *,
    n_rings: Sequence[int] | int = (40, 60),
    fold: Sequence[int] | int = (5, 9),
    radius: float = 40.0,
    spot_sd: float = 15.0,
    locs_per_spot: Sequence[int] | int = (6, 30),
    background_fraction: float = 0.015,
    fov_size: float = 1250.0,
) -> pd.DataFrame:
    """Proof of principle of multiscale clustering (paper, Fig. 5a, b and Methods): 40-60 rings
    of 5- to 9-fold symmetry (uniform), their spots on a circle of radius 40 nm at a random
    rotation, each spot 6-30 localizations normal with sd 15 nm; background 1.5 % of
    localizations; 1250 x 1250 nm^2. ``index`` = spot, ``index_coarse`` = ring. Our choice:
    rings at least 2 (radius + spot sd) apart and radius + 2 spot sd from the edges."""
    ring_bounds = _int_range("n_rings", n_rings, 1)
    fold_bounds = _int_range("fold", fold, 1)
    radius, spot_sd = _positive("radius", radius), _positive("spot_sd", spot_sd)
    locs_bounds = _int_range("locs_per_spot", locs_per_spot, 1)
    fov_size = _positive("fov_size", fov_size)
    fraction = _fraction("background_fraction", background_fraction)

    n = int(_draw_int(rng, ring_bounds))
    centres = place_centres(rng, n, fov_size, radius + 2 * spot_sd, 2 * (radius + spot_sd))
    folds = _draw_int(rng, fold_bounds, n)
    ring = np.repeat(np.arange(n), folds)  # ring of each spot
    k = np.arange(ring.size) - np.repeat(np.cumsum(folds) - folds, folds)  # position in ring
    angle = rng.uniform(0, 2 * np.pi, n)[ring] + 2 * np.pi * k / folds[ring]
    spots = centres[ring] + radius * np.column_stack([np.cos(angle), np.sin(angle)])
    counts = _draw_int(rng, locs_bounds, ring.size)
    xy = np.repeat(spots, counts, axis=0) + spot_sd * rng.standard_normal((int(counts.sum()), 2))
    labels = {
        "index": np.repeat(np.arange(1, ring.size + 1), counts),
        "index_coarse": np.repeat(ring + 1, counts),
    }
    return _finish(rng, xy, labels, fov_size, fraction)


def _corner_offsets(
    rng: np.random.Generator, n: int, r: float, spread: float, corners: int
) -> np.ndarray:
    """Points of one NPC corner: the isosceles triangle with its apex at the origin, axis +x,
    height h = 2 r and apex angle 2 pi / ``corners``, "centroid" (r, 0). From it, a uniform
    direction phi and a distance |N(0, 1)| * D(phi) / ``spread``, D = the distance to the
    triangle's perimeter along phi."""
    phi = rng.uniform(0, 2 * np.pi, n)
    cos, sin, tan = np.cos(phi), np.sin(phi), np.tan(np.pi / corners)
    with np.errstate(divide="ignore"):
        to_base = np.where(cos > 0, r / cos, np.inf)  # base at x = 2 r
        upper, lower = sin - cos * tan, sin + cos * tan  # sides y = +-x tan(pi / corners)
        to_upper = np.where(upper > 0, r * tan / upper, np.inf)
        to_lower = np.where(lower < 0, -r * tan / lower, np.inf)
    reach = np.minimum(to_base, np.minimum(to_upper, to_lower))
    t = np.abs(rng.standard_normal(n)) * reach / spread
    return np.column_stack([r + t * cos, t * sin])


def simulate_npc(
    rng: np.random.Generator,
    *,
    n_structures: Sequence[int] | int = (5, 9),
    corners: int = 8,
    radius: float = 50.0,
    locs_per_corner: Sequence[int] | int = (0, 80),
    spread: float = 1.8,
    background_fraction: float = 0.03,
    fov_size: float = 1250.0,
) -> pd.DataFrame:
    """NPC-like training data (paper, Fig. 5c-f and Methods): 5-9 structures of 8 corners with a
    common vertex at a random rotation; each corner an isosceles triangle of height h, r = h / 2
    = 50 nm, holding 0-80 localizations (uniform) normal around the centroid with an
    angle-dependent sd = centroid-to-perimeter distance / 1.8 (effective radii 20-80 nm);
    background 3 % of localizations; 1250 x 1250 nm^2. ``index`` = corner (empty corners get no
    label), ``index_coarse`` = structure. Our choice: structures at least 4 r apart and 2 r from
    the edges."""
    struct_bounds = _int_range("n_structures", n_structures, 1)
    corners = _integer("corners", corners, 3)
    radius, spread = _positive("radius", radius), _positive("spread", spread)
    locs_bounds = _int_range("locs_per_corner", locs_per_corner)
    fov_size = _positive("fov_size", fov_size)
    fraction = _fraction("background_fraction", background_fraction)

    n = int(_draw_int(rng, struct_bounds))
    centres = place_centres(rng, n, fov_size, 2 * radius, 4 * radius)
    structure = np.repeat(np.arange(n), corners)
    angle = (
        rng.uniform(0, 2 * np.pi, n)[structure]
        + 2 * np.pi * np.tile(np.arange(corners), n) / corners
    )
    counts = _draw_int(rng, locs_bounds, structure.size)
    local = _corner_offsets(rng, int(counts.sum()), radius, spread, corners)
    xy = np.repeat(centres[structure], counts, axis=0) + _rotate(local, np.repeat(angle, counts))
    labels = {
        "index": np.repeat(np.arange(1, structure.size + 1), counts),
        "index_coarse": np.repeat(structure + 1, counts),
    }
    return _finish(rng, xy, labels, fov_size, fraction)


# ----------------------------------------------------------------------------- registry and I/O
SIMULATORS: dict[str, Callable[..., pd.DataFrame]] = {
    "benchmark": simulate_benchmark,
    "c_shaped": simulate_c_shaped,
    "rings": simulate_rings,
    "multishape": simulate_shapes,
    "adjacent_pairs": simulate_adjacent_pairs,
    "integrin": simulate_integrin,
    "multiscale_rings": simulate_multiscale_rings,
    "npc": simulate_npc,
}


def simulate_fov(
    family: str, rng_or_seed: np.random.Generator | int | Sequence[int], **params
) -> pd.DataFrame:
    """One FOV of ``family`` (a key of :data:`SIMULATORS`) with its keyword ``params``."""
    if family not in SIMULATORS:
        raise ValueError(f"unknown simulation family {family!r}; choose from {list(SIMULATORS)}")
    simulator = SIMULATORS[family]
    accepted = inspect.signature(simulator).parameters
    unknown = sorted(set(params) - set(accepted) - {"rng"})
    if unknown or "rng" in params:
        raise ValueError(
            f"unknown parameter(s) {unknown or ['rng']} for family {family!r}; "
            f"accepted: {[p for p in accepted if p != 'rng']}"
        )
    return simulator(np.random.default_rng(rng_or_seed), **params)


def fov_size(family: str, params: Mapping) -> float:
    """Side (nm) of the square FOVs that ``family`` simulates with ``params``: their
    ``fov_size``, else the simulator's default."""
    if family not in SIMULATORS:
        raise ValueError(f"unknown simulation family {family!r}; choose from {list(SIMULATORS)}")
    default = inspect.signature(SIMULATORS[family]).parameters["fov_size"].default
    return float(params.get("fov_size", default))


def simulate_dataset(family: str, n_fovs: int, seed: int, **params) -> list[pd.DataFrame]:
    """``n_fovs`` independent FOVs; FOV i is seeded by ``(seed, i)``, so it does not depend on
    ``n_fovs``."""
    n_fovs = _integer("n_fovs", n_fovs, 1)
    if not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    return [simulate_fov(family, [int(seed), i], **params) for i in range(n_fovs)]


def write_fov_csv(df: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Write one FOV in the benchmark's CSV format (``x,y,index`` then any extra columns),
    atomically."""
    missing = [c for c in ("x", "y", "index") if c not in df.columns]
    if missing:
        raise ValueError(f"FOV for {path} lacks column(s) {missing}")
    extra = [c for c in df.columns if c not in ("x", "y", "index")]
    return write_csv_atomic(df[["x", "y", "index", *extra]], path)
