"""Metrics: the paper's toy example, the published DBSCAN rows, rasterisation, edge cases."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.spatial import ConvexHull, Delaunay
from sklearn.metrics import adjusted_rand_score
from sklearn.metrics.cluster import contingency_matrix

from miro.evaluation.dbscan import dbscan_labels
from miro.evaluation.metrics import (
    DEGENERATE,
    HIGHER_IS_BETTER,
    LONG_COLUMNS,
    METRICS,
    Clusters,
    FovRecord,
    Grid,
    ami,
    ari,
    ari_c,
    ari_dagger,
    compression_index,
    coordinate_digest,
    degenerate_flags,
    dirichlet_energy,
    evaluate_fov,
    evaluate_fovs,
    hull_mask,
    iou,
    jaccard_clusters,
    pair_clusters,
    rmse_xy,
    rmse_xy_published,
    rmsre_n,
)

REPO = Path(__file__).resolve().parents[3]


# --------------------------------------------------------------------------- toy example
def table_a() -> np.ndarray:
    """Paper Table 2: 800 background kept, 10 to each of 20 clusters; each cluster keeps 45."""
    table = np.zeros((21, 21), dtype=int)
    table[0, 0], table[0, 1:], table[1:, 0] = 800, 10, 5
    table[np.arange(1, 21), np.arange(1, 21)] = 45
    return table


def table_b() -> np.ndarray:
    """Paper Table 3: 900 background kept; 9 of each cluster lost; clusters 1-10 kept whole
    (41), clusters 11-20 split 21 / 20 into predicted 11/12 ... 29/30; the 100 misassigned
    background localizations go 5 each to predicted 1-10 and to the 21-halves."""
    table = np.zeros((21, 31), dtype=int)
    table[0, 0], table[1:, 0] = 900, 9
    table[np.arange(1, 11), np.arange(1, 11)] = 41
    table[0, 1:11] = 5
    for gt in range(11, 21):
        k = 11 + 2 * (gt - 11)
        table[gt, k], table[gt, k + 1], table[0, k] = 21, 20, 5
    return table


def toy_fov(table: np.ndarray, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Coordinates and labels realising a confusion table on a Scenario-6-like 2 µm FOV.

    Ground-truth cluster l: 50 points in a 30 nm disc on a 5 x 4 grid of centres; its lost
    localizations are a random subset, the rest go to its predicted clusters in column order
    sorted by x (a split cluster: left part first). Background localizations predicted in
    cluster k sit within 3 nm of the centre of the GT cluster with most points in k; the
    background kept as background is uniform over the FOV.
    """
    rng = np.random.default_rng(seed)
    centres = np.array([(200 + 400 * i, 250 + 500 * j) for j in range(4) for i in range(5)])
    coords, truth, pred = [rng.uniform(0, 2000, (table[0, 0], 2))], [], []
    truth.append(np.zeros(table[0, 0], dtype=int))
    pred.append(np.zeros(table[0, 0], dtype=int))
    for gt, centre in enumerate(centres, start=1):
        radius, angle = 30 * np.sqrt(rng.uniform(size=50)), rng.uniform(0, 2 * np.pi, 50)
        points = centre + np.c_[radius * np.cos(angle), radius * np.sin(angle)]
        lost = rng.permutation(50)[: table[gt, 0]]
        kept = np.setdiff1d(np.arange(50), lost)
        kept = kept[np.argsort(points[kept, 0])]
        labels = np.zeros(50, dtype=int)
        labels[kept] = np.repeat(np.flatnonzero(table[gt]), table[gt][table[gt] > 0])[
            table[gt, 0] :
        ]
        coords.append(points)
        truth.append(np.full(50, gt))
        pred.append(labels)
    for k in np.flatnonzero(table[0, 1:]) + 1:
        centre = centres[np.argmax(table[1:, k])]
        coords.append(centre + rng.uniform(-3, 3, (table[0, k], 2)))
        truth.append(np.zeros(table[0, k], dtype=int))
        pred.append(np.full(table[0, k], k))
    return np.concatenate(coords), np.concatenate(truth), np.concatenate(pred)


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        (
            table_a(),
            {
                "ARI": 0.62,
                "ARI_dagger": 0.67,
                "AMI": 0.70,
                "ARI_c": 0.80,
                "JI_c": 1,
                "RMSRE_N": 0.1,
            },
        ),
        (
            table_b(),
            {
                "ARI": 0.65,
                "ARI_dagger": 0.47,
                "AMI": 0.67,
                "ARI_c": 0.46,
                "JI_c": 0.67,
                "RMSRE_N": 0.34,
            },
        ),
    ],
    ids=["method_A", "method_B"],
)
def test_toy_example_matches_paper_tables_2_and_3(table, expected):
    coords, truth, pred = toy_fov(table)
    assert (contingency_matrix(truth, pred) == table).all()
    result = evaluate_fov(coords, truth, {"toy": pred}).iloc[0]
    for metric, value in expected.items():
        assert round(result[metric], 2) == value, metric


def test_toy_b_pairs_each_split_cluster_with_its_larger_part():
    coords, truth, pred = toy_fov(table_b())
    pairing = pair_clusters(Clusters.from_labels(coords, truth), Clusters.from_labels(coords, pred))
    assert len(pairing.distance) == 20 and pairing.n_pred == 30
    # unsplit: 41 + 5 background; split: the 21-part + 5 background
    assert sorted(pairing.pred_sizes) == [26] * 10 + [46] * 10
    assert rmsre_n(pairing) == pytest.approx(np.sqrt((10 * 0.08**2 + 10 * 0.48**2) / 20))


# --------------------------------------------------------------------------- published rows
def _decimals(text: str) -> int:
    return len(text.split(".")[1]) if "." in text else 0


@pytest.mark.benchmark_data
@pytest.mark.parametrize("folder", ["Ground Truth - Scenario 8", "Multiple Blinking - Scenario 8"])
def test_dbscan_reproduces_published_rows(benchmark_dir, folder):
    """Plain DBSCAN with the published parameters on the 47 test FOVs gives the paper's DBSCAN
    row (mean and sd, rounded as printed); the RMSE column is the published convention."""
    settings = pd.read_csv(REPO / "resources" / "benchmark_settings.csv").set_index("folder")
    setting = settings.loc[folder]
    train = {int(v) for v in setting["train_fovs"].split()}
    records = []
    for path in sorted((benchmark_dir / folder).glob("*.csv")):
        fov = int(re.findall(r"\d+", path.stem)[-1])
        if fov in train:
            continue
        table = pd.read_csv(path)
        coords, truth = table[["x", "y"]].to_numpy(), table["index"].to_numpy()
        labels = dbscan_labels(
            coords, setting["baseline_dbscan_eps_nm"], setting["baseline_dbscan_min_samples"]
        )
        records.append(FovRecord(folder, fov, coords, truth, {"DBSCAN": labels}))
    assert len(records) == 47
    long = evaluate_fovs(records)
    stats = long.groupby("metric")["value"].agg(["mean", "std"])
    paper = pd.read_csv(REPO / "resources" / "paper_table1.csv", dtype=str)
    row = paper[(paper["dataset"] == folder) & (paper["method"] == "DBSCAN")].iloc[0]
    for metric in METRICS[:8]:
        ours = "RMSE_xy_published" if metric == "RMSE_xy" else metric
        for column, stat in ((metric, "mean"), (f"{metric}_sd", "std")):
            printed = row[column]
            value = round(stats.loc[ours, stat], _decimals(printed))
            assert value == pytest.approx(float(printed)), f"{metric} {stat}: {value} {printed}"


# --------------------------------------------------------------------------- ARI family
def test_ari_and_ari_c_agree_with_scikit_learn():
    rng = np.random.default_rng(1)
    truth, pred = rng.integers(0, 8, 500), rng.integers(0, 11, 500)
    pred[truth == 3] = 4  # some structure
    assert ari(truth, pred) == pytest.approx(adjusted_rand_score(truth, pred), abs=1e-12)
    clustered = truth != 0
    expected = adjusted_rand_score(truth[clustered], pred[clustered])
    assert ari_c(truth, pred) == pytest.approx(expected, abs=1e-12)


def test_ari_dagger_is_harmonic_mean_of_plain_not_weighted_wallace_means():
    """Perfect agreement gives 1; ARI† equals the ARI when all clusters have equal size on
    both sides (plain and pair-weighted means of the Wallace indices then coincide)."""
    truth = np.repeat(np.arange(5), 20)
    assert ari_dagger(truth, truth + 7) == pytest.approx(1.0)
    rng = np.random.default_rng(2)
    pred = truth.copy()
    a, b = (
        rng.choice(np.flatnonzero(truth == 0), 4, False),
        rng.choice(np.flatnonzero(truth == 1), 4, False),
    )
    pred[a], pred[b] = 1, 0  # swap 4 and 4: sizes stay 20 on both sides
    assert ari_dagger(truth, pred) == pytest.approx(ari(truth, pred))
    assert ari_dagger(truth, pred) < 1


# --------------------------------------------------------------------------- IoU
def test_hull_mask_matches_point_in_triangle_reference():
    """The scan-line fill selects exactly the pixel centres Delaunay.find_simplex puts inside
    (the reference's per-pixel test), here on a small FOV with overlapping clusters."""
    rng = np.random.default_rng(3)
    centres = rng.uniform(50, 250, (6, 2))
    coords = np.concatenate([c + rng.normal(0, 15, (25, 2)) for c in centres])
    coords = np.vstack([coords, [[0, 0], [300, 300]]])
    labels = np.r_[np.repeat(np.arange(1, 7), 25), 0, 0]
    clusters, grid = Clusters.from_labels(coords, labels), Grid.benchmark(coords)
    assert grid.xs.size == 700
    mask = hull_mask(clusters, grid)
    xx, yy = np.meshgrid(grid.xs, grid.ys)
    pixels = np.c_[xx.ravel(), yy.ravel()]
    expected = np.zeros(len(pixels), dtype=bool)
    for k in range(len(clusters)):
        points = clusters.members(k)
        expected |= Delaunay(points[ConvexHull(points).vertices]).find_simplex(pixels) >= 0
    assert mask.any()
    assert (mask.ravel() == expected).all()


def test_hull_area_approaches_polygon_area():
    square = np.array([[100.0, 100.0], [300.0, 100.0], [300.0, 250.0], [100.0, 250.0], [200, 180]])
    coords = np.vstack([square, [[0, 0], [400, 400]]])
    labels = np.r_[np.ones(5, dtype=int), 0, 0]
    grid = Grid.benchmark(coords)  # 800 px over 400 nm: 0.5 nm pixels
    area = hull_mask(Clusters.from_labels(coords, labels), grid).sum() * np.diff(grid.xs[:2]) ** 2
    assert area[0] == pytest.approx(200 * 150, rel=0.01)


def test_iou_of_identical_and_disjoint_partitions():
    rng = np.random.default_rng(4)
    coords = np.vstack([rng.uniform(0, 50, (30, 2)), rng.uniform(500, 550, (30, 2))])
    truth = np.repeat([1, 2], 30)
    assert iou(coords, truth, truth) == 1.0
    assert iou(coords, truth, np.where(truth == 1, 1, 0)) == pytest.approx(0.5, abs=0.05)


# --------------------------------------------------------------------------- edge cases
def _two_clusters() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(5)
    coords = np.vstack(
        [rng.uniform(0, 1000, (100, 2)), rng.normal(300, 10, (20, 2)), rng.normal(700, 10, (20, 2))]
    )
    return coords, np.r_[np.zeros(100, dtype=int), np.ones(20, dtype=int), np.full(20, 2)]


def test_all_noise_prediction():
    coords, truth = _two_clusters()
    result = evaluate_fov(coords, truth, {"none": np.zeros_like(truth)}).iloc[0]
    assert result["IoU"] == 0 and result["JI_c"] == 0 and result["ARI_dagger"] == 0
    assert result["ARI"] == pytest.approx(0) and result["ARI_c"] == pytest.approx(0)
    assert np.isnan(result[["RMSRE_N", "RMSE_xy", "RMSE_xy_published"]].astype(float)).all()


def test_no_ground_truth_cluster():
    coords, truth = _two_clusters()
    result = evaluate_fov(coords, np.zeros_like(truth), {"dbscan": truth}).iloc[0]
    assert result["IoU"] == 0 and result["JI_c"] == 0 and np.isnan(result["ARI_c"])
    assert np.isnan(result["RMSRE_N"])


def test_single_label_fov():
    truth = _two_clusters()[1]
    zeros = np.zeros_like(truth)
    assert ari(zeros, zeros) == ami(zeros, zeros) == ari_dagger(zeros, zeros) == 1.0
    assert ari_dagger(zeros, truth) == 0.0
    assert ari_dagger(truth, zeros) == 0.0


def test_small_and_collinear_clusters_have_no_hull_but_still_pair():
    background, pair = [[0, 0], [1000, 1000]], [[100, 100], [102, 101]]  # 2-point cluster 1
    line = [[500, 500], [510, 510], [520, 520], [530, 530]]  # collinear cluster 2
    coords = np.array([*background, *pair, *line], dtype=float)
    labels = np.array([0, 0, 1, 1, 2, 2, 2, 2])
    clusters = Clusters.from_labels(coords, labels)
    assert not hull_mask(clusters, Grid.benchmark(coords)).any()
    assert iou(coords, labels, labels) == 0.0
    pairing = pair_clusters(clusters, clusters)
    assert jaccard_clusters(pairing) == 1.0 and rmsre_n(pairing) == 0.0


def test_pairing_rejects_far_clusters_and_counts_fp_fn():
    coords, truth = _two_clusters()
    pred = truth.copy()
    pred[truth == 2] = 0
    pred[:5] = 3  # a spurious cluster of background points
    pairing = pair_clusters(Clusters.from_labels(coords, truth), Clusters.from_labels(coords, pred))
    assert len(pairing.distance) == 1  # TP: cluster 1; FN: cluster 2; FP: cluster 3
    assert jaccard_clusters(pairing) == pytest.approx(1 / 3)
    assert rmse_xy(pairing) == pytest.approx(0.0) and rmse_xy_published(pairing) == 0.0


def test_rmse_conventions():
    square = np.array([[0.0, 0], [40, 40], [0, 40], [40, 0]])
    truth = Clusters.from_labels(square, np.ones(4, int))
    shifted = Clusters.from_labels(square + np.array([3.0, 4.0]), np.ones(4, int))
    pairing = pair_clusters(truth, shifted)
    assert rmse_xy(pairing) == pytest.approx(5.0)  # sqrt(mean d²), nm
    assert rmse_xy_published(pairing) == pytest.approx(np.sqrt(5.0))  # sqrt(mean d), √nm


def test_bad_input_is_rejected():
    coords, truth = _two_clusters()
    with pytest.raises(ValueError, match="negative"):
        evaluate_fov(coords, truth, {"raw_dbscan": truth - 1})
    with pytest.raises(ValueError, match=r"predictions\['short'\]"):
        evaluate_fov(coords, truth, {"short": truth[:-1]})
    with pytest.raises(ValueError, match=r"\(n, 2\)"):
        evaluate_fov(coords[:, :1], truth, {})
    with pytest.raises(ValueError, match="unknown metrics"):
        evaluate_fov(coords, truth, {"x": truth}, metrics=["F1"])


# --------------------------------------------------------------------------- tables
def test_evaluate_fovs_long_table_matches_evaluate_fov():
    coords, truth = _two_clusters()
    methods = {"perfect": truth, "noise": np.zeros_like(truth)}
    records = [FovRecord("toy", fov, coords + fov, truth, methods) for fov in (1, 2)]
    long = evaluate_fovs(records)
    assert list(long.columns) == [*LONG_COLUMNS, "degenerate", "duplicate_of"]
    assert LONG_COLUMNS == ("dataset", "fov", "method", "metric", "value")
    assert len(long) == 2 * 2 * len(METRICS)
    assert long["duplicate_of"].isna().all()
    flags = long.drop_duplicates("method").set_index("method")["degenerate"]
    assert flags.to_dict() == {"perfect": "", "noise": "no_predicted_cluster"}
    wide = evaluate_fov(coords + 2, truth, methods).set_index("method")
    got = long[long["fov"] == 2].pivot(index="method", columns="metric", values="value")
    pd.testing.assert_frame_equal(
        got.loc[wide.index, list(METRICS)], wide[list(METRICS)], check_names=False
    )
    assert wide.loc["perfect", "ARI"] == 1 and wide.loc["perfect", "IoU"] == 1
    subset = evaluate_fov(coords, truth, methods, metrics=["ARI", "JI_c"])
    assert list(subset.columns) == ["method", "ARI", "JI_c", "degenerate"]


# --------------------------------------------------------------------------- flags
def test_three_points_without_a_cluster_keep_the_reference_score_and_are_flagged():
    """Probe 3: DBSCAN finds nothing in a FOV of 3 clustered localizations. scikit-learn (the
    reference) scores ARI = ARI_c = 1 for two one-label partitions; the score stays, flagged."""
    coords = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    truth, noise = np.ones(3, dtype=int), np.zeros(3, dtype=int)
    row = evaluate_fov(coords, truth, {"DBSCAN": noise}).iloc[0]
    assert row["ARI"] == adjusted_rand_score(truth, noise) == 1.0 and row["ARI_c"] == 1.0
    assert row["JI_c"] == 0 and row["IoU"] == 0
    assert row["degenerate"] == "no_predicted_cluster;trivial_partitions;trivial_clustered"
    assert set(row["degenerate"].split(";")) <= set(DEGENERATE)


def test_degenerate_flags():
    truth = _two_clusters()[1]
    zeros = np.zeros_like(truth)
    assert degenerate_flags(truth, truth) == ""
    assert degenerate_flags(truth, zeros) == "no_predicted_cluster"
    assert degenerate_flags(zeros, truth) == "no_true_cluster"
    assert (
        degenerate_flags(zeros, zeros) == "no_true_cluster;no_predicted_cluster;trivial_partitions"
    )
    one = np.where(truth == 2, 0, truth)  # one true cluster: ARI_c compares one label with...
    assert degenerate_flags(one, zeros) == "no_predicted_cluster;trivial_clustered"  # ...one
    assert ari_c(one, zeros) == 1.0
    split = one.copy()
    split[np.flatnonzero(one == 1)[:5]] = 2  # ...or with two: ARI_c = 0, computed, not flagged
    assert degenerate_flags(one, split) == "" and ari_c(one, split) == pytest.approx(0.0)


def test_duplicated_fovs_are_flagged_and_named(caplog):
    """Probe 2: a FOV copied under another number (rows in any order) is flagged
    duplicate_of the lower-numbered one, in the same dataset only, with a warning naming both."""
    coords, truth = _two_clusters()
    order = np.random.default_rng(0).permutation(len(coords))
    records = [
        FovRecord("toy", 12, coords[order], truth[order], {"A": truth[order]}, "fovs/fov_12.csv"),
        FovRecord("toy", 3, coords, truth, {"A": truth}, "fovs/fov_3.csv"),
        FovRecord("toy", 5, coords + 0.5, truth, {"A": truth}, "fovs/fov_5.csv"),
        FovRecord("other", 12, coords, truth, {"A": truth}),
    ]
    with caplog.at_level("WARNING"):
        long = evaluate_fovs(records)
    per_fov = long.drop_duplicates(["dataset", "fov"]).set_index(["dataset", "fov"])
    assert per_fov["duplicate_of"].dropna().to_dict() == {("toy", 12): 3}
    (warning,) = [r.getMessage() for r in caplog.records]
    assert "FOV 12 (fovs/fov_12.csv)" in warning and "FOV 3 (fovs/fov_3.csv)" in warning
    assert coordinate_digest(coords[order]) == coordinate_digest(coords)
    assert coordinate_digest(coords[:-1]) != coordinate_digest(coords)


def test_data_errors_name_the_dataset_fov_and_files():
    """Probe 1 at the package level: the error names the FOV and the record's files."""
    coords, truth = _two_clusters()
    record = FovRecord("S8", 7, coords, truth, {"DBSCAN": truth[:70]}, "fovs/7.csv, labels.gz")
    with pytest.raises(ValueError, match=r"dataset 'S8', FOV 7 \(fovs/7.csv, labels.gz\): pred"):
        evaluate_fovs([record])


def test_metric_names_and_directions():
    assert METRICS[:8] == ("ARI_dagger", "IoU", "JI_c", "RMSRE_N", "RMSE_xy", "AMI", "ARI_c", "ARI")
    lower = {m for m, higher in HIGHER_IS_BETTER.items() if not higher}
    assert lower == {"RMSRE_N", "RMSE_xy", "RMSE_xy_published"}


# --------------------------------------------------------------------------- ablation metrics
def test_compression_index():
    coords, truth = _two_clusters()
    centroid = np.zeros_like(coords)
    for k in (1, 2):
        centroid[truth == k] = coords[truth == k].mean(axis=0)
    squeezed = np.where(truth[:, None] > 0, centroid, coords + 50)  # background moves: ignored
    assert compression_index(coords, coords, truth) == pytest.approx(0.0)
    assert compression_index(coords, squeezed, truth) == pytest.approx(1.0)
    half = coords + 0.5 * (centroid - coords) * (truth[:, None] > 0)
    assert compression_index(coords, half, truth) == pytest.approx(0.5)
    assert np.isnan(compression_index(coords, coords, np.zeros_like(truth)))


def test_dirichlet_energy():
    features = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 2.0]])
    edges = np.array([[0, 1, 1, 2], [1, 0, 2, 1]])  # path 0-1-2, both directions
    assert dirichlet_energy(features, edges) == pytest.approx((1 + 1 + 4 + 4) / 3)
    with pytest.raises(ValueError):
        dirichlet_energy(features, edges.T)
