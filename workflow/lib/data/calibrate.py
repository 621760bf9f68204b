"""Calibration of the benchmark simulator on labelled localizations (paper, Methods "Simulated
data"): the settings of :func:`miro.data.simulate.simulate_benchmark` estimated from any folder of
labelled FOVs (a benchmark folder or the user's own data), so that simulating with them
reproduces the folder (``benchmarks/bench_simulate_fidelity.py`` checks it).

Labels follow the benchmark's convention (``index``: 0 = non-clustered, k > 0 = cluster k). What
is estimated, and how:

- ``fov_size``: side of the square with the area of the non-clustered localizations' bounding
  box, corrected for the sample range of uniform points (``(max - min) (n + 1) / (n - 1)``);
  median over the FOVs.
- Blinking: the localizations of one molecule add pairs at short range to the non-clustered
  localizations. Their pair-distance histogram is split into a smooth part (``a r + b r^2``, any
  locally smooth density, fitted on 150-250 nm) and the excess below 120 nm: ``kappa N`` pairs
  for ``N`` localizations, whose median distance is ``2 sqrt(ln 2) localization_precision`` (two
  points each normal with that sd per axis). ``kappa = E[n (n - 1)] / (2 E[n])`` for ``n``
  localizations per molecule; the simulator's geometric law on {0, 1, ...} has ``kappa`` = its
  mean (``blinks_per_molecule``). Blinking is detected when ``kappa`` > 0.1. Not identifiable
  without molecule ids: the law of ``n`` itself (taken geometric, the simulator's) and the
  molecules that gave no localization; without non-clustered localizations, blinking is not
  detected at all. The simulator has no time model: a ``frame`` column is not used.
- Cluster groups (:class:`~miro.data.simulate.ClusterGroup`): per cluster, the log of its
  localization count and of its rms per-axis spread; a 2-component Gaussian mixture replaces one
  group when its BIC is lower and its components are bimodal along one feature (Ashman's D > 2);
  clusters count in each group by their mixture membership (refined, for blinking data split by
  counts, by a mixture of the simulator's negative-binomial cluster counts). Per group: clusters
  per FOV (mean, rounded); molecules per cluster (mean count, divided by the mean localizations
  per molecule and by the fraction of a cluster's localizations inside the
  FOV when blinking: the simulator drops those outside); major / minor sd matched by simulated
  moments: single clusters simulated with the group's counts (or molecules and blinking) until
  their mean sample-covariance eigenvalues equal the folder's (this removes the bias of PCA on
  few points and of blinking's correlated localizations); isotropic (one sd, matched on the
  trace) unless the fitted major / minor ratio exceeds 1.25.
- ``clustered_fraction`` (of molecules): the groups' molecules against the non-clustered
  localizations per FOV (per molecule when blinking).
- ``background_gradient``: the simulator knows a uniform background and one rising linearly
  from left to right (Scenario 10); the one whose mean x of the non-clustered localizations
  (1/2, resp. 2/3 of the FOV) is nearer is chosen.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree
from scipy.stats import nbinom
from sklearn.mixture import GaussianMixture

from miro.data.readers import LocalizationFileError, read_localizations
from miro.data.simulate import ClusterGroup

SUFFIXES = (".csv", ".tsv")
PAIR_RANGE = 120.0  # nm: extra pairs of one molecule's localizations counted up to here
PAIR_SMOOTH = (150.0, 250.0)  # nm: pair distances fitting the smooth part a r + b r^2
PAIR_BIN = 2.0  # nm
BLINKING_KAPPA = 0.1  # extra short-range neighbours per localization above which data blink
ANISOTROPY = 1.25  # major / minor sd above which clusters are elliptical
MIN_BIMODALITY = 2.0  # Ashman's D of two groups along at least one feature
SHAPE_CLUSTERS = 1000  # simulated clusters per moment evaluation
SHAPE_ITERATIONS = 15


@dataclass(frozen=True)
class Calibration:
    """Settings of the benchmark simulator estimated from a folder (module docstring), with
    ``diagnostics``: the measured quantities behind them."""

    groups: tuple[ClusterGroup, ...]
    clustered_fraction: float
    background_gradient: bool
    fov_size: float
    blinking: bool
    blinks_per_molecule: float | None
    localization_precision: float | None
    n_fovs: int
    source: str
    diagnostics: Mapping[str, float]

    def params(self) -> dict:
        """Keyword parameters of ``simulate_fov("benchmark", seed, **params)``."""
        params = {
            "groups": [asdict(g) for g in self.groups],
            "clustered_fraction": self.clustered_fraction,
            "background_gradient": self.background_gradient,
            "fov_size": self.fov_size,
            "blinking": self.blinking,
        }
        if self.blinking:
            params["blinks_per_molecule"] = self.blinks_per_molecule
            params["localization_precision"] = self.localization_precision
        return params

    def table(self, scenario: str = "calibrated") -> pd.DataFrame:
        """The settings in the layout of ``resources/benchmark_simulation.csv`` (scenario,
        group, parameter, value, source)."""
        source = f"calibrated on {self.source} ({self.n_fovs} FOVs)"
        rows = [
            (scenario, k, field, value, source)
            for k, group in enumerate(self.groups, 1)
            for field, value in asdict(group).items()
            if value is not None
        ]
        rows += [
            (scenario, None, "clustered_fraction", self.clustered_fraction, source),
            (scenario, None, "background_gradient", int(self.background_gradient), source),
        ]
        if self.blinking:
            rows += [
                (scenario, None, "blinks_per_molecule", self.blinks_per_molecule, source),
                (scenario, None, "localization_precision", self.localization_precision, source),
            ]
        return pd.DataFrame(rows, columns=["scenario", "group", "parameter", "value", "source"])


# ----------------------------------------------------------------------------- input
def read_labelled_folder(
    folder: str | os.PathLike, fmt: str = "benchmark", columns: Mapping[str, str] | None = None
) -> dict[str, pd.DataFrame]:
    """File name -> FOV of every ``*.csv`` / ``*.tsv`` file of ``folder``, read by
    :func:`~miro.data.readers.read_localizations`; each must carry cluster labels (``index``)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"{folder}: not a folder")
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in SUFFIXES)
    if not files:
        raise ValueError(f"{folder}: no localization files ({' / '.join(SUFFIXES)})")
    fovs = {}
    for path in files:
        df = read_localizations(path, fmt, columns)
        if "index" not in df.columns:
            raise LocalizationFileError(
                f"{path}: no cluster labels (column 'index', 0 = non-clustered); map the label "
                "column with columns={'index': NAME}"
            )
        fovs[path.name] = df
    return fovs


def _checked(fovs: Mapping[str, pd.DataFrame]) -> list[pd.DataFrame]:
    if not fovs:
        raise ValueError("no FOVs to calibrate on")
    for name, df in fovs.items():
        missing = [c for c in ("x", "y", "index") if c not in df.columns]
        if missing:
            raise ValueError(f"{name}: lacks column(s) {missing}; has {list(df.columns)}")
        if (df["index"] < 0).any():
            raise ValueError(f"{name}: negative cluster labels (0 = non-clustered, k > 0)")
    if not any((df["index"] > 0).any() for df in fovs.values()):
        raise ValueError(f"{', '.join(list(fovs)[:3])}...: no clustered localization (index > 0)")
    return list(fovs.values())


# ----------------------------------------------------------------------------- measurements
def _fov_side(fovs: list[pd.DataFrame]) -> float:
    sides = []
    for df in fovs:
        background = df.loc[df["index"] == 0, ["x", "y"]].to_numpy()
        xy = background if len(background) >= 20 else df[["x", "y"]].to_numpy()
        n = len(xy)
        extent = (xy.max(axis=0) - xy.min(axis=0)) * (n + 1) / (n - 1)
        sides.append(np.sqrt(np.prod(extent)))
    return float(np.median(sides))


def _pair_excess(fovs: list[pd.DataFrame]) -> tuple[float, float, int]:
    """``(kappa, precision, n)``: extra pairs per non-clustered localization at short range,
    their rms scale as a per-axis sd (nm) and the localizations used."""
    edges = np.arange(0.0, PAIR_SMOOTH[1] + PAIR_BIN / 2, PAIR_BIN)
    counts = np.zeros(len(edges) - 1)
    n = 0
    for df in fovs:
        xy = df.loc[df["index"] == 0, ["x", "y"]].to_numpy()
        n += len(xy)
        if len(xy) < 2:
            continue
        pairs = cKDTree(xy).query_pairs(PAIR_SMOOTH[1], output_type="ndarray")
        distance = np.linalg.norm(xy[pairs[:, 0]] - xy[pairs[:, 1]], axis=1)
        counts += np.histogram(distance, edges)[0]
    if n < 50 or counts.sum() == 0:
        return 0.0, float("nan"), n
    r0, r1 = edges[:-1], edges[1:]
    mid = (r0 + r1) / 2
    smooth = np.column_stack([(r1**2 - r0**2) / 2, (r1**3 - r0**3) / 3])
    far = mid > PAIR_SMOOTH[0]
    excess = counts - smooth @ np.linalg.lstsq(smooth[far], counts[far], rcond=None)[0]
    near = mid < PAIR_RANGE
    kappa = excess[near].sum() / n
    if kappa <= 0:
        return 0.0, float("nan"), n
    # distance of two points each N(0, sd^2) per axis: median 2 sd sqrt(ln 2)
    cumulative = np.cumsum(excess[near])
    median = np.interp(cumulative[-1] / 2, np.maximum.accumulate(cumulative), r1[near])
    sd = median / (2 * np.sqrt(np.log(2)))
    return float(kappa), float(sd), n


def _cluster_moments(xy: np.ndarray, label: np.ndarray) -> pd.DataFrame:
    """Per cluster (label > 0): localization count, centroid and the eigenvalues of its sample
    covariance (``lam_major`` >= ``lam_minor``, nm^2; NaN below 3 localizations)."""
    keep = label > 0
    _, inverse, count = np.unique(label[keep], return_inverse=True, return_counts=True)
    x, y = xy[keep, 0], xy[keep, 1]
    sums = {k: np.bincount(inverse, v) for k, v in (("x", x), ("y", y))}
    mx, my = sums["x"] / count, sums["y"] / count
    dx, dy = x - mx[inverse], y - my[inverse]
    denominator = np.where(count > 2, count - 1, np.nan)
    cxx = np.bincount(inverse, dx * dx) / denominator
    cyy = np.bincount(inverse, dy * dy) / denominator
    cxy = np.bincount(inverse, dx * dy) / denominator
    half = (cxx + cyy) / 2
    root = np.sqrt(np.maximum(half**2 - (cxx * cyy - cxy**2), 0))
    return pd.DataFrame(
        {"n": count, "x": mx, "y": my, "lam_major": half + root, "lam_minor": half - root}
    )


def _groups(
    clusters: pd.DataFrame, seed: int, blinks: float | None
) -> tuple[np.ndarray, dict[str, float]]:
    """Membership of each cluster in each group (rows sum to 1): one group, or the two
    components of a Gaussian mixture when it is better by BIC and bimodal along one feature
    (the smaller clusters first). With blinking and groups split by their counts, the
    memberships are refined by the simulator's count law (:func:`_count_mixture`)."""
    usable = clusters["lam_major"].notna().to_numpy()
    features = np.column_stack(
        [
            np.log(clusters["n"].to_numpy(float)),
            np.log(np.sqrt((clusters["lam_major"] + clusters["lam_minor"]) / 2).to_numpy()),
        ]
    )[usable]
    one = np.ones((len(clusters), 1))
    if len(features) < 10:
        return one, {"bic_1": np.nan, "bic_2": np.nan, "bimodality": np.nan}
    fits = [
        GaussianMixture(k, covariance_type="diag", reg_covar=1e-4, n_init=3, random_state=seed).fit(
            features
        )
        for k in (1, 2)
    ]
    bic = [f.bic(features) for f in fits]
    means, variances = fits[1].means_, fits[1].covariances_
    d = np.max(np.sqrt(2) * np.abs(means[0] - means[1]) / np.sqrt(variances.sum(axis=0)))
    info = {"bic_1": bic[0], "bic_2": bic[1], "bimodality": float(d)}
    if bic[1] >= bic[0] or d <= MIN_BIMODALITY:
        return one, info
    order = np.argsort(means[:, 0] + means[:, 1])
    membership = np.zeros((len(clusters), 2))
    membership[usable] = fits[1].predict_proba(features)[:, order]
    # clusters of 1-2 localizations: the group of fewer localizations
    membership[~usable, int(np.argmin(means[order, 0]))] = 1.0
    by_count = np.sqrt(2) * abs(means[0, 0] - means[1, 0]) / np.sqrt(variances[:, 0].sum())
    if blinks is not None and by_count > MIN_BIMODALITY:
        membership = _count_mixture(clusters["n"].to_numpy(), membership, blinks)
    return membership, info


def _count_mixture(counts: np.ndarray, membership: np.ndarray, blinks: float) -> np.ndarray:
    """EM for a mixture of the simulator's blinking count laws: a cluster of ``m`` molecules
    each giving a geometric number of localizations (mean ``blinks``) has a negative-binomial
    count (``m`` successes, p = 1 / (1 + blinks)); ``m`` per group continuous, from
    ``membership`` on."""
    p = 1 / (1 + blinks)
    for _ in range(50):
        weight = membership.mean(axis=0)
        molecules = np.maximum((membership * counts[:, None]).sum(axis=0), 1e-9) / (
            blinks * membership.sum(axis=0)
        )
        log_pmf = nbinom.logpmf(counts[:, None], molecules[None, :], p) + np.log(weight)
        log_pmf -= log_pmf.max(axis=1, keepdims=True)
        membership = np.exp(log_pmf)
        membership /= membership.sum(axis=1, keepdims=True)
    return membership


class _ShapeModel:
    """Single clusters drawn once (common random numbers), scaled to given sds: the mean
    sample-covariance eigenvalues the simulator gives for a cluster group."""

    def __init__(
        self, rng, counts=None, weights=None, molecules=0, blinks=0.0, precision=0.0
    ) -> None:
        k = SHAPE_CLUSTERS
        if counts is not None:  # no blinking: one localization per molecule, observed sizes
            sizes = rng.choice(counts, k, p=weights / weights.sum())
            loc_molecule = np.arange(int(sizes.sum()))
            cluster_of_molecule = np.repeat(np.arange(k), sizes)
        else:  # each of `molecules` molecules gives a geometric number of localizations
            cluster_of_molecule = np.repeat(np.arange(k), molecules)
            bursts = rng.geometric(1 / (1 + blinks), cluster_of_molecule.size) - 1
            loc_molecule = np.repeat(np.arange(cluster_of_molecule.size), bursts)
        self.z = rng.standard_normal((cluster_of_molecule.size, 2))
        self.angle = rng.uniform(0, 2 * np.pi, k)[cluster_of_molecule]
        self.loc_molecule = loc_molecule
        self.label = cluster_of_molecule[loc_molecule] + 1
        self.noise = precision * rng.standard_normal((loc_molecule.size, 2))

    def moments(self, major: float, minor: float) -> tuple[float, float]:
        scaled = self.z * [major, minor]
        cos, sin = np.cos(self.angle), np.sin(self.angle)
        molecule = np.column_stack(
            [cos * scaled[:, 0] - sin * scaled[:, 1], sin * scaled[:, 0] + cos * scaled[:, 1]]
        )
        xy = molecule[self.loc_molecule] + self.noise
        m = _cluster_moments(xy, self.label).dropna()
        return float(m["lam_major"].mean()), float(m["lam_minor"].mean())


def _fit_shape(model: _ShapeModel, observed: tuple[float, float], floor: float):
    """``(sd, sd_minor or None, ratio)``: sds whose simulated mean eigenvalues match
    ``observed``; ``floor`` = the part of a variance not due to the sds (precision^2)."""
    target = np.asarray(observed)
    sq = np.maximum(target - floor, 1.0)
    for _ in range(SHAPE_ITERATIONS):
        simulated = np.asarray(model.moments(*np.sqrt(sq)))
        sq = sq * np.maximum(target - floor, 1.0) / np.maximum(simulated - floor, 1.0)
    major, minor = np.sqrt(sq)
    ratio = float(major / minor)
    if ratio > ANISOTROPY:
        return float(major), float(minor), ratio
    total = target.sum()
    s2 = max(total / 2 - floor, 1.0)
    for _ in range(SHAPE_ITERATIONS):
        simulated = sum(model.moments(np.sqrt(s2), np.sqrt(s2)))
        s2 = s2 * max(total - 2 * floor, 1.0) / max(simulated - 2 * floor, 1.0)
    return float(np.sqrt(s2)), None, ratio


def _kept(spread: float, fov: float) -> float:
    """Mean fraction of a Gaussian (sd ``spread`` per axis) cluster inside the FOV, centres
    uniform: per axis 1 - 2 E[max(-e, 0)] / L = 1 - spread sqrt(2 / pi) / L."""
    return max(1 - spread * np.sqrt(2 / np.pi) / fov, 0.0) ** 2


# ----------------------------------------------------------------------------- calibration
def calibrate(
    source: str | os.PathLike | Sequence[pd.DataFrame] | Mapping[str, pd.DataFrame],
    *,
    seed: int = 0,
    fmt: str = "benchmark",
    columns: Mapping[str, str] | None = None,
) -> Calibration:
    """Estimate the benchmark simulator's settings from labelled FOVs (module docstring).

    Args:
        source: a folder of localization files (read with ``fmt`` / ``columns``, see
            :func:`~miro.data.readers.read_localizations`; each needs an ``index`` label
            column), or FOV DataFrames with ``x``, ``y``, ``index``.
        seed: seeds the group mixture and the simulated moments (same data + seed -> same
            settings).

    Raises:
        LocalizationFileError: a file cannot be read or has no labels (the message names it).
        ValueError: no files, no FOVs, negative labels, or no clustered localization.
    """
    if isinstance(source, str | os.PathLike):
        name = str(source)
        fovs = _checked(read_labelled_folder(source, fmt, columns))
    else:
        name = "the given FOVs"
        items = source.items() if isinstance(source, Mapping) else enumerate(source)
        fovs = _checked({f"FOV {k}": df for k, df in items})
    rng = np.random.default_rng(seed)
    n_fovs = len(fovs)
    side = _fov_side(fovs)
    kappa, precision, n_background = _pair_excess(fovs)
    blinking = kappa > BLINKING_KAPPA
    blinks = kappa if blinking else None
    precision = precision if blinking else None
    clusters = pd.concat(
        [
            _cluster_moments(df[["x", "y"]].to_numpy(), df["index"].to_numpy())
            for df in fovs
            if (df["index"] > 0).any()
        ],
        ignore_index=True,
    )
    membership, diagnostics = _groups(clusters, seed, blinks)
    n = clusters["n"].to_numpy(float)
    shaped = clusters["lam_major"].notna().to_numpy()
    groups = []
    for g, weight in enumerate(membership.T):
        observed = tuple(
            np.average(clusters[f"lam_{axis}"].to_numpy()[shaped], weights=weight[shaped])
            for axis in ("major", "minor")
        )
        mean_n = np.average(n, weights=weight)
        if blinking:
            molecules = max(round(mean_n / blinks), 1)
            for _ in range(2):  # molecules <-> sds: the kept fraction depends on the spread
                model = _ShapeModel(rng, molecules=molecules, blinks=blinks, precision=precision)
                sd, sd_minor, ratio = _fit_shape(model, observed, precision**2)
                spread = np.sqrt((sd**2 + (sd_minor or sd) ** 2) / 2 + precision**2)
                molecules = max(round(mean_n / (blinks * _kept(spread, side))), 1)
        else:
            molecules = max(round(mean_n), 1)
            counts = clusters["n"].to_numpy()[shaped]
            model = _ShapeModel(rng, counts=counts, weights=weight[shaped])
            sd, sd_minor, ratio = _fit_shape(model, observed, 0.0)
        n_clusters = max(round(weight.sum() / n_fovs), 1)
        groups.append(ClusterGroup(n_clusters, molecules, sd, sd_minor))
        diagnostics[f"group{g + 1}.anisotropy"] = ratio
        diagnostics[f"group{g + 1}.locs_per_cluster"] = float(mean_n)
    clustered_molecules = sum(g.n_clusters * g.molecules for g in groups)
    background = n_background / n_fovs
    if blinking:
        background /= blinks * _kept(precision, side)
    fraction = clustered_molecules / (clustered_molecules + background)
    u = np.concatenate(
        [
            (x - x.min()) / np.ptp(x)
            for x in (df.loc[df["index"] == 0, "x"].to_numpy() for df in fovs)
            if len(x) >= 2 and np.ptp(x) > 0
        ]
        or [np.full(1, 0.5)]
    )
    diagnostics |= {
        "pair_excess_kappa": kappa,
        "background_mean_x": float(u.mean()),
        "has_frame": float(any("frame" in df.columns for df in fovs)),
    }
    return Calibration(
        groups=tuple(groups),
        clustered_fraction=float(fraction),
        background_gradient=bool(u.mean() > 7 / 12),
        fov_size=side,
        blinking=bool(blinking),
        blinks_per_molecule=None if blinks is None else float(blinks),
        localization_precision=None if precision is None else float(precision),
        n_fovs=n_fovs,
        source=name,
        diagnostics=diagnostics,
    )
