"""DBSCAN parameter landscapes (Supp. Fig. 1): the shared-neighbour grid gives scikit-learn's
labels, each cell the metrics of a direct DBSCAN run, and the near-best area its definition."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.cluster import DBSCAN

from miro.evaluation.dbscan import dbscan_labels
from miro.evaluation.landscape import (
    LANDSCAPE_COLUMNS,
    SUMMARY_COLUMNS,
    LandscapeFov,
    dbscan_grid,
    eps_grid,
    landscape,
    min_samples_grid,
    near_best,
    summary,
)
from miro.evaluation.metrics import evaluate_fov


def fov(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian clusters of different sizes and spreads over uniform background, with exact
    duplicates (distance 0) and two clusters close enough to merge at large eps."""
    rng = np.random.default_rng(seed)
    centres = [(200, 200), (260, 200), (700, 300), (500, 800), (850, 850)]
    parts, truth = [], []
    for k, (centre, n, sd) in enumerate(
        zip(centres, [40, 25, 60, 15, 30], [8, 10, 20, 5, 15], strict=True)
    ):
        parts.append(rng.normal(centre, sd, (n, 2)))
        truth.append(np.full(n, k + 1))
    parts.append(rng.uniform(0, 1000, (150, 2)))
    truth.append(np.zeros(150, dtype=int))
    coords, truth = np.vstack(parts), np.concatenate(truth)
    coords[-5:] = coords[:5]  # duplicates of clustered points, labelled background
    return coords, truth


def test_grid_labels_are_scikit_learns_in_every_cell():
    coords, _ = fov(0)
    eps, min_samples = eps_grid([2, 150], 9), min_samples_grid([1, 30], 7)
    cells = list(dbscan_grid(coords, eps, min_samples))
    assert len(cells) == len(eps) * len(min_samples)
    assert {(e, m) for e, m, _ in cells} == {(e, m) for e in eps for m in min_samples}
    kinds = set()
    for e, m, labels in cells:
        expected = DBSCAN(eps=e, min_samples=int(m)).fit_predict(coords) + 1
        np.testing.assert_array_equal(labels, expected, err_msg=f"eps {e}, min_samples {m}")
        kinds.add(min(labels.max(), 2))
    assert kinds == {0, 1, 2}  # all noise, one cluster and several occur on this grid


def test_grid_rejects_unsorted_values():
    coords, _ = fov(0)
    with pytest.raises(ValueError, match="increasing"):
        list(dbscan_grid(coords, [10, 5], [3]))
    with pytest.raises(ValueError, match="increasing"):
        list(dbscan_grid(coords, [5, 10], [4, 4]))


def test_grid_values():
    eps = eps_grid([2, 200], 5)
    np.testing.assert_allclose(eps, [2, 2 * 10**0.5, 20, 20 * 10**0.5, 200])
    assert min_samples_grid([2, 60], 12).tolist() == [2, 7, 13, 18, 23, 28, 34, 39, 44, 49, 55, 60]
    assert min_samples_grid([3, 5], 12).tolist() == [3, 4, 5]  # repeats dropped
    assert min_samples_grid([4, 4], 3).tolist() == [4]
    with pytest.raises(ValueError, match="low < high"):
        eps_grid([5, 5], 3)


def records() -> list[LandscapeFov]:
    """Two FOVs; DBSCAN clusters a shrunken copy (a stand-in for MIRO's squeezed points), the
    scores use the original localizations."""
    out = []
    for seed in (1, 2):
        coords, truth = fov(seed)
        squeezed = coords.copy()
        for k in np.unique(truth[truth > 0]):
            members = truth == k
            squeezed[members] -= 0.5 * (coords[members] - coords[members].mean(axis=0))
        out.append(LandscapeFov(squeezed, coords, truth))
    return out


def test_every_cell_is_the_mean_of_direct_dbscan_and_metrics():
    fovs, eps, min_samples = records(), eps_grid([3, 80], 4), min_samples_grid([2, 20], 3)
    chosen = {"eps": 17.5, "min_samples": 6, "source": "optuna"}
    table = landscape(fovs, eps, min_samples, chosen, "MIRO")
    assert list(table.columns) == list(LANDSCAPE_COLUMNS)
    assert (table["kind"] == "grid").sum() == 12 and (table["n_fovs"] == 2).all()
    metrics = ["ARI_dagger", "JI_c"]
    for row in table.to_dict("records"):
        direct = [
            evaluate_fov(
                f.coords, f.truth, {"m": dbscan_labels(f.clustered, row["eps"], row["min_samples"])}
            )
            .loc[0, metrics]
            .to_numpy(float)
            for f in fovs
        ]
        np.testing.assert_allclose([row[m] for m in metrics], np.mean(direct, axis=0), atol=1e-12)
    chosen_row = table[table["kind"] == "chosen"].iloc[0]
    assert (chosen_row["eps"], chosen_row["min_samples"]) == (17.5, 6)
    assert table[metrics].nunique().min() > 2  # the grid is not flat


def grid_of(scores: np.ndarray, eps: np.ndarray, min_samples: np.ndarray) -> pd.DataFrame:
    rows = [
        {"eps": e, "min_samples": m, "ARI_dagger": scores[i, j], "JI_c": scores[i, j]}
        for i, m in enumerate(min_samples)
        for j, e in enumerate(eps)
    ]
    return pd.DataFrame(rows)


def test_near_best_fraction_and_area():
    eps, min_samples = np.array([1.0, 10.0, 100.0]), np.array([2, 4, 6])
    scores = np.array([[0.90, 0.96, 0.50], [0.80, 0.97, 0.93], [0.1, 0.2, 0.3]])
    area = near_best(grid_of(scores, eps, min_samples), "ARI_dagger")
    assert area["best"] == 0.97 and area["fraction"] == pytest.approx(3 / 9)
    # tiles: eps decades [0.5, 1, 0.5], min_samples [1, 2, 1]; near best: (2, 10), (4, 10),
    # (4, 100) -> 1 * 1 + 2 * 1 + 2 * 0.5
    assert area["area"] == pytest.approx(4.0)
    assert near_best(grid_of(scores, eps, min_samples), "JI_c", tolerance=1)["area"] == 8.0


def test_summary_marks_the_best_cell_and_the_chosen_score():
    eps, min_samples = np.array([5.0, 50.0]), np.array([3, 9])
    tables = []
    for method, scores, chosen in [
        ("DBSCAN", np.array([[0.2, 0.6], [0.4, 0.58]]), 0.5),
        ("MIRO", np.array([[0.9, 0.92], [0.91, 0.93]]), 0.9),
    ]:
        grid = grid_of(scores, eps, min_samples).assign(method=method, kind="grid", n_fovs=3)
        pick = {"eps": 20.0, "min_samples": 5, "ARI_dagger": chosen, "JI_c": chosen}
        tables += [grid, pd.DataFrame([pick | {"method": method, "kind": "chosen", "n_fovs": 3}])]
    table = summary({"S5": pd.concat(tables)[list(LANDSCAPE_COLUMNS)]})
    assert list(table.columns) == list(SUMMARY_COLUMNS) and len(table) == 4
    row = table.set_index(["method", "metric"]).loc[("DBSCAN", "ARI_dagger")]
    assert (row["best"], row["best_eps"], row["best_min_samples"]) == (0.6, 50.0, 3)
    assert row["chosen"] == 0.5 and not row["chosen_near_best"]
    assert row["near_best_fraction"] == 0.5  # 0.6 and 0.58
    miro = table.set_index(["method", "metric"]).loc[("MIRO", "JI_c")]
    assert miro["near_best_fraction"] == 1.0 and miro["chosen_near_best"]
    better = pd.concat(tables)[list(LANDSCAPE_COLUMNS)]
    better.loc[(better["kind"] == "chosen") & (better["method"] == "DBSCAN"), "JI_c"] = 0.7
    row = summary({"S5": better}).set_index(["method", "metric"]).loc[("DBSCAN", "JI_c")]
    assert (row["best"], row["best_eps"], row["best_min_samples"]) == (0.7, 20.0, 5)
    assert row["chosen_near_best"] and row["near_best_fraction"] == 0  # no cell >= 0.65
    with pytest.raises(ValueError, match="one chosen row"):
        summary({"S5": pd.concat(tables[:1])[list(LANDSCAPE_COLUMNS)]})
