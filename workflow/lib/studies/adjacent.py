"""Resolving adjacent clusters as a function of their distance (paper Fig. 4a, Methods
"Simulated data": pairs of 2-D Gaussian clusters, sd sigma = 25 nm, geometric localization
counts with mean 90, centres d sigma apart).

A MIRO trained on one ``adjacent_pairs`` dataset squeezes freshly simulated test FOVs at every
distance; DBSCAN with the dataset's tuned parameters clusters the squeezed (MIRO + DBSCAN) and the
raw (DBSCAN) localizations, and each FOV is scored by the Jaccard index of cluster detection
JI_c. Test FOVs use a random stream of their own, ``(seed, TEST_STREAM, i)``, so they never
repeat the dataset's training FOVs (``(seed, i)``); FOV i shares its stream across distances
(common random numbers: same directions and counts, only the distance changes), which makes the
curves over distance smoother for the same number of FOVs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from miro.core.model import MIRO
from miro.core.squeeze import squeeze_many
from miro.data.simulate import simulate_fov
from miro.evaluation.dbscan import dbscan_labels
from miro.evaluation.metrics import evaluate_fov
from miro.evaluation.stats import paired_test

TEST_STREAM = 7
METHODS = ("DBSCAN", "MIRO")
SCAN_COLUMNS = ("distance", "fov", "method", "JI_c")


def simulate_pairs(params: Mapping, distance: float, n_fovs: int, seed: int) -> list[pd.DataFrame]:
    """``n_fovs`` test FOVs of ``adjacent_pairs`` at ``distance`` sigma, the dataset's other
    simulation ``params`` unchanged (see the module docstring for the seeds)."""
    if n_fovs < 1:
        raise ValueError(f"n_fovs must be >= 1, got {n_fovs}")
    params = {k: v for k, v in params.items() if k != "distance"}
    return [
        simulate_fov("adjacent_pairs", [seed, TEST_STREAM, i], distance=distance, **params)
        for i in range(n_fovs)
    ]


def jaccard_scan(
    model: MIRO,
    radius: float,
    params: Mapping,
    distances: Sequence[float],
    n_fovs: int,
    seed: int,
    dbscan: Mapping[str, Mapping],
    *,
    device: str = "auto",
) -> pd.DataFrame:
    """JI_c of DBSCAN and MIRO + DBSCAN on ``n_fovs`` simulated FOVs per distance.

    ``dbscan``: method -> {"eps", "min_samples"}. Returns columns distance, fov (1-based),
    method, JI_c.
    """
    if not distances:
        raise ValueError("no distances given")
    rows = []
    for distance in distances:
        fovs = simulate_pairs(params, distance, n_fovs, seed)
        coords = [f[["x", "y"]].to_numpy() for f in fovs]
        squeezed = squeeze_many(model, coords, radius, device=device)
        for i, (frame, raw, result) in enumerate(zip(fovs, coords, squeezed, strict=True), 1):
            source = {"DBSCAN": raw, "MIRO": result.squeezed_nm}
            predictions = {
                m: dbscan_labels(source[m], dbscan[m]["eps"], dbscan[m]["min_samples"])
                for m in METHODS
            }
            scores = evaluate_fov(raw, frame["index"].to_numpy(), predictions, ["JI_c"])
            for method, value in zip(scores["method"], scores["JI_c"], strict=True):
                rows.append((float(distance), i, method, float(value)))
    return pd.DataFrame(rows, columns=SCAN_COLUMNS)


def summarise(scan: pd.DataFrame) -> pd.DataFrame:
    """Per distance: mean and sd (ddof 1) of JI_c per method and the paired one-sided Wilcoxon
    test of MIRO + DBSCAN against DBSCAN (:func:`miro.evaluation.stats.paired_test`) over the
    FOVs."""
    missing = set(SCAN_COLUMNS) - set(scan.columns)
    if missing:
        raise ValueError(f"JI_c scan lacks columns {sorted(missing)}")
    rows = []
    for distance, group in scan.groupby("distance", sort=True):
        wide = group.pivot(index="fov", columns="method", values="JI_c")
        absent = [m for m in METHODS if m not in wide.columns]
        if absent:
            raise ValueError(f"distance {distance}: no JI_c for methods {absent}")
        row = {"distance": distance}
        for method in ("MIRO", "DBSCAN"):
            row[f"{method}_mean"] = float(wide[method].mean())
            row[f"{method}_sd"] = float(wide[method].std(ddof=1))
        rows.append(row | paired_test(wide["MIRO"].to_numpy(), wide["DBSCAN"].to_numpy(), True))
    return pd.DataFrame(rows)
