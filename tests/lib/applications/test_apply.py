"""Tests for miro.applications.apply: tiling, stitched squeezing, cluster tables, files in and
out."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from scipy.spatial import cKDTree

from miro.applications.apply import (
    CLUSTER_COLUMNS,
    apply_to_file,
    apply_to_files,
    cluster_table,
    simulate_acquisition,
    squeeze_large,
    tile_windows,
)
from miro.core.checkpoint import save_checkpoint
from miro.core.graph import NUM_EIGENVECTORS
from miro.core.model import MIRO
from miro.core.squeeze import squeeze_many
from miro.data.labels import cluster_classes
from miro.data.readers import LocalizationFileError, read_localizations
from miro.evaluation.dbscan import dbscan_labels
from miro.files import write_csv_atomic

RADIUS = 0.1


def uniform(seed: int, n: int, size: tuple[float, float], origin=(0.0, 0.0)) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0, size, (n, 2)) + origin


def constant_model(displacement: tuple[float, float]) -> MIRO:
    """A model whose head ignores the hidden state and always outputs ``displacement``."""
    model = MIRO(width=16, steps=3)
    with torch.no_grad():
        model.head.weight.zero_()
        model.head.bias.copy_(torch.tensor(displacement))
    return model


def random_model(num_classes: int = 0) -> MIRO:
    torch.manual_seed(0)
    return MIRO(width=16, steps=3, num_classes=num_classes)


def checkpoint(path: Path, model: MIRO, fov_nm: float | None) -> Path:
    graph = {"radius": RADIUS, "eigenvectors": NUM_EIGENVECTORS}
    if fov_nm is not None:
        graph["fov_nm"] = fov_nm
    save_checkpoint(path, model, radius=RADIUS, graph=graph)
    return path


# ----------------------------------------------------------------------------- tiling
@pytest.mark.parametrize("origin", [(0.0, 0.0), (-7_000.0, -3_000.0), (1e6, 1e6)])
def test_every_localization_in_exactly_one_core_and_halos_complete(origin):
    coords = uniform(0, 6000, (9000.0, 7000.0), origin)
    window, overlap = 2000.0, 300.0
    windows = tile_windows(coords, window, overlap)
    cores = np.concatenate([w.core for w in windows])
    assert np.array_equal(np.sort(cores), np.arange(len(coords)))
    tree = cKDTree(coords)
    for w in windows:
        x0, y0, x1, y1 = w.bounds
        assert x1 - x0 == pytest.approx(window) and y1 - y0 == pytest.approx(window)
        inside = np.all((coords >= [x0, y0]) & (coords <= [x1, y1]), axis=1)
        assert np.array_equal(w.members, np.flatnonzero(inside))
        # every localization within the overlap of a core localization is in the window
        near = np.unique(np.concatenate(tree.query_ball_point(coords[w.core], overlap, p=np.inf)))
        assert np.isin(near, w.members).all()


@pytest.mark.parametrize(
    "coords",
    [
        np.array([[5.0, -3.0]]),
        np.array([[0.0, 0.0], [1e4, 0.0]]),
        np.full((4, 2), 123.0),
        np.column_stack([np.linspace(-5e3, 5e3, 50), np.zeros(50)]),  # a line: zero y extent
    ],
)
def test_tiny_and_degenerate_inputs_are_partitioned(coords):
    windows = tile_windows(coords, 2000.0, 200.0)
    assert np.array_equal(
        np.sort(np.concatenate([w.core for w in windows])), np.arange(len(coords))
    )
    assert all(np.isin(w.core, w.members).all() for w in windows)


def test_fov_smaller_than_a_window_is_one_window():
    coords = uniform(1, 300, (1500.0, 900.0), (-2e5, 3e5))
    (window,) = tile_windows(coords, 2000.0, 200.0)
    assert np.array_equal(window.core, np.arange(len(coords)))
    assert np.array_equal(window.members, np.arange(len(coords)))


@pytest.mark.parametrize("window, overlap", [(0.0, 0.0), (1000.0, 500.0), (1000.0, -1.0)])
def test_bad_geometry_is_refused(window, overlap):
    with pytest.raises(ValueError, match="overlap_nm"):
        tile_windows(uniform(0, 10, (100.0, 100.0)), window, overlap)


# ----------------------------------------------------------------------------- squeezing
def test_zero_displacement_returns_every_localization_once():
    coords = uniform(2, 3000, (7000.0, 5000.0), (-1e6, 2e4))
    result = squeeze_large(
        constant_model((0.0, 0.0)), coords, RADIUS, window_nm=2000.0, overlap_nm=200.0, device="cpu"
    )
    np.testing.assert_allclose(result.squeezed_nm, coords, rtol=0, atol=1e-6)


def test_constant_displacement_is_scaled_by_the_window_everywhere():
    """Every window, border ones included, spans the training FOV extent, so a constant
    displacement d moves every localization by r * d * window_nm."""
    coords = uniform(3, 5000, (6000.0, 6000.0))
    d, window = np.array([0.5, -0.25]), 2000.0
    result = squeeze_large(
        constant_model(tuple(d)), coords, RADIUS, window_nm=window, overlap_nm=300.0, device="cpu"
    )
    np.testing.assert_allclose(
        coords - result.squeezed_nm, np.broadcast_to(RADIUS * d * window, coords.shape), rtol=0.02
    )


def test_small_fov_equals_squeeze_many_on_the_whole_fov():
    model = random_model(num_classes=3)
    coords = uniform(4, 400, (1800.0, 1200.0), (5e5, -5e5))
    alone = squeeze_many(model, [coords], RADIUS, device="cpu")[0]
    stitched = squeeze_large(
        model, coords, RADIUS, window_nm=2000.0, overlap_nm=200.0, device="cpu"
    )
    assert np.array_equal(stitched.squeezed_nm, alone.squeezed_nm)
    assert np.array_equal(stitched.class_probs, alone.class_probs)


def test_windows_with_too_few_localizations_pass_through():
    dense = uniform(5, 200, (1000.0, 1000.0))
    lonely = np.array([[20_000.0, 0.0], [20_000.0, 20_000.0]])  # alone in their windows
    coords = np.concatenate([dense, lonely])
    result = squeeze_large(
        random_model(num_classes=2),
        coords,
        RADIUS,
        window_nm=2000.0,
        overlap_nm=200.0,
        device="cpu",
    )
    assert np.array_equal(result.squeezed_nm[-2:], lonely)
    assert np.array_equal(result.class_probs[-2:], [[1.0, 0.0], [1.0, 0.0]])
    assert not np.allclose(result.squeezed_nm[:-2], dense)


# ----------------------------------------------------------------------------- cluster tables
def test_cluster_table_by_hand():
    small = np.array([[-1.0, -1.0], [1.0, -1.0], [1.0, 1.0], [-1.0, 1.0]])  # side 2 at (0, 0)
    big = 2 * small + [10.0, 0.0]  # side 4 at (10, 0)
    pair = np.array([[0.0, 30.0], [0.0, 32.0]])  # 2 points at (0, 31)
    line = np.array([[20.0, 30.0], [21.0, 30.0], [22.0, 30.0]])  # collinear, centroid (21, 30)
    noise = np.array([[100.0, 100.0], [-50.0, 7.0]])
    coords = np.concatenate([noise[:1], small, big, pair, line, noise[1:]])
    labels = np.array([0] + [3] * 4 + [7] * 4 + [8] * 2 + [9] * 3 + [0])
    table = cluster_table(coords, labels)
    assert list(table.columns) == list(CLUSTER_COLUMNS)
    assert table["cluster"].tolist() == [3, 7, 8, 9]
    assert table["n_localizations"].tolist() == [4, 4, 2, 3]
    np.testing.assert_allclose(
        table[["centroid_x", "centroid_y"]], [[0, 0], [10, 0], [0, 31], [21, 30]]
    )
    np.testing.assert_allclose(
        table["radius_of_gyration"], [np.sqrt(2), 2 * np.sqrt(2), 1.0, np.sqrt(2 / 3)]
    )
    np.testing.assert_allclose(table["hull_area"], [4.0, 16.0, 0.0, 0.0])
    np.testing.assert_allclose(table["nn_distance"], [10.0, 10.0, np.hypot(21, 1), np.hypot(21, 1)])


def test_cluster_table_one_or_no_cluster():
    coords = uniform(6, 5, (10.0, 10.0))
    one = cluster_table(coords, np.array([0, 1, 1, 1, 0]))
    assert len(one) == 1 and np.isnan(one["nn_distance"].iloc[0])
    none = cluster_table(coords, np.zeros(5, dtype=int))
    assert none.empty and list(none.columns) == list(CLUSTER_COLUMNS)


# ----------------------------------------------------------------------------- files
@pytest.fixture(scope="module")
def acquisition(tmp_path_factory) -> Path:
    """A small integrin-like acquisition as a ThunderSTORM export with an extra column."""
    df = simulate_acquisition(0, fov_size=5000.0, n_clusters=40)
    df["intensity [photon]"] = np.random.default_rng(0).uniform(500, 5000, len(df))
    return write_csv_atomic(df, tmp_path_factory.mktemp("in") / "cell.csv")


def test_apply_to_file_end_to_end(acquisition, tmp_path):
    model = random_model(num_classes=3)
    ckpt = checkpoint(tmp_path / "model.pt", model, fov_nm=2500.0)
    miro, base = {"eps": 30.0, "min_samples": 4}, {"eps": 60.0, "min_samples": 4}
    out = tmp_path / "out"
    paths = apply_to_file(
        acquisition, ckpt, miro_dbscan=miro, baseline_dbscan=base, out_dir=out, device="cpu"
    )
    raw = pd.read_csv(acquisition)
    labels = pd.read_csv(paths["labels"])
    assert len(labels) == len(raw)
    for column in ("id", "frame", "true_cluster", "intensity [photon]"):
        np.testing.assert_array_equal(labels[column], raw[column])
    np.testing.assert_array_equal(labels[["x", "y"]], raw[["x [nm]", "y [nm]"]])

    coords = raw[["x [nm]", "y [nm]"]].to_numpy()
    squeezed = squeeze_large(
        model, coords, RADIUS, window_nm=2500.0, overlap_nm=250.0, device="cpu"
    )
    expected = dbscan_labels(squeezed.squeezed_nm, **miro)
    np.testing.assert_array_equal(labels["miro_cluster"], expected)
    np.testing.assert_array_equal(labels["dbscan_cluster"], dbscan_labels(coords, **base))
    np.testing.assert_array_equal(
        labels["miro_class"], cluster_classes(expected, squeezed.class_probs.argmax(1))
    )
    pd.testing.assert_frame_equal(
        pd.read_csv(paths["clusters_miro"]), cluster_table(coords, expected), check_dtype=False
    )
    assert len(pd.read_csv(paths["clusters_dbscan"])) == labels["dbscan_cluster"].max()
    assert paths["map"].stat().st_size > 0 and paths["histograms"].stat().st_size > 0
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in paths.values())


def test_bad_file_is_named_and_nothing_is_written(acquisition, tmp_path):
    ckpt = checkpoint(tmp_path / "model.pt", random_model(), fov_nm=2500.0)
    good, bad = tmp_path / "a_good.csv", tmp_path / "b_bad.csv"
    good.write_bytes(acquisition.read_bytes())
    bad.write_text("x [px],y [px]\n1,2\n3,4\n5,6\n")
    out = tmp_path / "out"
    with pytest.raises(LocalizationFileError, match=r"b_bad\.csv"):
        apply_to_files([good, bad], ckpt, miro_dbscan={"eps": 30, "min_samples": 4}, out_dir=out)
    assert not out.exists()


def test_window_size_is_required_without_fov_in_the_checkpoint(acquisition, tmp_path):
    ckpt = checkpoint(tmp_path / "model.pt", random_model(), fov_nm=None)
    out = tmp_path / "out"
    with pytest.raises(ValueError, match="window"):
        apply_to_file(acquisition, ckpt, miro_dbscan={"eps": 30, "min_samples": 4}, out_dir=out)
    paths = apply_to_file(
        acquisition,
        ckpt,
        miro_dbscan={"eps": 30, "min_samples": 4},
        out_dir=out,
        window_nm=2500.0,
        device="cpu",
    )
    assert "clusters_dbscan" not in paths
    assert "dbscan_cluster" not in pd.read_csv(paths["labels"]).columns


def test_simulated_acquisition_is_seeded_and_readable(tmp_path):
    a = simulate_acquisition(3, fov_size=3000.0, n_clusters=10)
    pd.testing.assert_frame_equal(a, simulate_acquisition(3, fov_size=3000.0, n_clusters=10))
    assert not a.equals(simulate_acquisition(4, fov_size=3000.0, n_clusters=10))
    assert a["frame"].is_monotonic_increasing
    read = read_localizations(write_csv_atomic(a, tmp_path / "a.csv"))
    np.testing.assert_array_equal(read[["x", "y"]], a[["x [nm]", "y [nm]"]])
