"""Tests for miro.applications.apply: tiling, stitched squeezing, cluster tables, files in and
out."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from scipy.spatial import cKDTree

from miro.applications import apply as apply_module
from miro.applications.apply import (
    CLUSTER_COLUMNS,
    MAP_PALETTE,
    OutputExistsError,
    apply_to_file,
    apply_to_files,
    cluster_table,
    hdbscan_labels,
    load_model,
    map_figure,
    neighbour_colors,
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
from miro.data.writers import write_localizations
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
    """Every window, border ones included, is normalised at the training scale, so a constant
    displacement d moves every localization by exactly r * d * window_nm."""
    coords = uniform(3, 5000, (6000.0, 6000.0))
    d, window = np.array([0.5, -0.25]), 2000.0
    result = squeeze_large(
        constant_model(tuple(d)), coords, RADIUS, window_nm=window, overlap_nm=300.0, device="cpu"
    )
    np.testing.assert_allclose(
        coords - result.squeezed_nm, np.broadcast_to(RADIUS * d * window, coords.shape), atol=1e-6
    )


@pytest.mark.parametrize("size", [(900.0, 900.0), (3000.0, 400.0)])
def test_a_file_smaller_than_a_window_is_padded_not_stretched(size):
    """A 0.9 μm file (or a 0.4 μm thin strip) under a 4 μm model moves by r * d * 4000 nm, as in
    training, not by r * d * its own extent."""
    coords = uniform(7, 300, size, (2e4, -3e4))
    d, window = np.array([0.4, 0.2]), 4000.0
    result = squeeze_large(
        constant_model(tuple(d)), coords, RADIUS, window_nm=window, overlap_nm=400.0, device="cpu"
    )
    np.testing.assert_allclose(
        coords - result.squeezed_nm, np.broadcast_to(RADIUS * d * window, coords.shape), atol=1e-6
    )


def test_small_fov_equals_squeeze_many_at_the_training_scale():
    model = random_model(num_classes=3)
    coords = uniform(4, 400, (1800.0, 1200.0), (5e5, -5e5))
    alone = squeeze_many(model, [coords], RADIUS, device="cpu", scale_nm=2000.0)[0]
    stitched = squeeze_large(
        model, coords, RADIUS, window_nm=2000.0, overlap_nm=200.0, device="cpu"
    )
    assert np.array_equal(stitched.squeezed_nm, alone.squeezed_nm)
    assert np.array_equal(stitched.class_probs, alone.class_probs)


def test_a_small_file_moves_as_when_embedded_in_a_larger_one():
    """The same 2 x 2 μm of localizations, alone or inside a 31 μm acquisition whose other
    localizations lie far beyond the connectivity radius + halo, get the same squeezed positions:
    both are normalised at the training scale (4 μm), not at the extent of what is at hand."""
    model = random_model()
    window, overlap = 4000.0, RADIUS * 4000.0
    small = uniform(8, 300, (2000.0, 2000.0), (6300.0, 6300.0))
    far = np.concatenate(
        [uniform(9, 300, (1000.0, 1000.0)), uniform(10, 300, (1000.0, 1000.0), (3e4, 3e4))]
    )
    large = np.concatenate([small, far])
    # precondition: in the large file, one window's core and members are exactly the small file
    held = [
        w for w in tile_windows(large, window, overlap) if np.isin(w.core, np.arange(300)).any()
    ]
    assert len(held) == 1 and np.array_equal(held[0].members, np.arange(300))
    assert held[0].bounds[0] < small[:, 0].min()  # the window reaches beyond the small file

    alone = squeeze_large(model, small, RADIUS, window_nm=window, overlap_nm=overlap, device="cpu")
    embedded = squeeze_large(
        model, large, RADIUS, window_nm=window, overlap_nm=overlap, device="cpu"
    )
    np.testing.assert_allclose(embedded.squeezed_nm[:300], alone.squeezed_nm, rtol=0, atol=1e-6)
    # and the scale matters: stretched to its own 2 μm extent, the small file moves differently
    stretched = squeeze_many(model, [small], RADIUS, device="cpu")[0].squeezed_nm
    assert np.abs(stretched - alone.squeezed_nm).max() > 1.0


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


MIRO_DBSCAN = {"eps": 30.0, "min_samples": 4}


def test_apply_to_file_end_to_end(acquisition, tmp_path):
    model = random_model(num_classes=3)
    ckpt = checkpoint(tmp_path / "model.pt", model, fov_nm=2500.0)
    miro, base = MIRO_DBSCAN, {"eps": 60.0, "min_samples": 4}
    out = tmp_path / "out"
    tuned = {**miro, "source": "optuna on 3 FOVs"}  # a MIRO.json as tuning writes it
    applied = apply_to_file(
        acquisition, ckpt, miro_dbscan=tuned, baseline_dbscan=base, out_dir=out, device="cpu"
    )
    paths = applied.paths
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
    np.testing.assert_allclose(labels[["x_squeezed", "y_squeezed"]], squeezed.squeezed_nm)
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
    assert applied.summary.startswith(f"cell: {len(raw):,} localizations; MIRO + DBSCAN ")


def test_bad_file_is_named_and_nothing_is_written(acquisition, tmp_path):
    ckpt = checkpoint(tmp_path / "model.pt", random_model(), fov_nm=2500.0)
    good, bad = tmp_path / "a_good.csv", tmp_path / "b_bad.csv"
    good.write_bytes(acquisition.read_bytes())
    bad.write_text("x [px],y [px]\n1,2\n3,4\n5,6\n")
    out = tmp_path / "out"
    with pytest.raises(LocalizationFileError, match=r"b_bad\.csv"):
        apply_to_files([good, bad], ckpt, miro_dbscan=MIRO_DBSCAN, out_dir=out)
    assert not out.exists()


def test_window_size_is_required_without_fov_in_the_checkpoint(acquisition, tmp_path):
    ckpt = checkpoint(tmp_path / "model.pt", random_model(), fov_nm=None)
    out = tmp_path / "out"
    with pytest.raises(ValueError, match="window"):
        apply_to_file(acquisition, ckpt, miro_dbscan=MIRO_DBSCAN, out_dir=out)
    paths = apply_to_file(
        acquisition, ckpt, miro_dbscan=MIRO_DBSCAN, out_dir=out, window_nm=2500.0, device="cpu"
    ).paths
    assert "clusters_dbscan" not in paths
    assert "dbscan_cluster" not in pd.read_csv(paths["labels"]).columns


@pytest.fixture()
def no_squeeze(monkeypatch):
    """Fail the test if anything reaches the squeeze."""

    def refuse(*args, **kwargs):
        raise AssertionError("squeezed before the check")

    monkeypatch.setattr(apply_module, "squeeze_large", refuse)


@pytest.mark.parametrize(
    "options, message",
    [
        ({"miro_dbscan": {"eps": 0.0, "min_samples": 4}}, "eps must be a positive"),
        ({"miro_dbscan": {"eps": float("nan"), "min_samples": 4}}, "eps must be a positive"),
        ({"miro_dbscan": {"eps": 30.0, "min_samples": 0}}, "min_samples must be an integer"),
        ({"miro_dbscan": {"eps": 30.0}}, "lack"),
        ({"miro_dbscan": MIRO_DBSCAN, "baseline_dbscan": {"eps": -1, "min_samples": 4}}, "eps"),
        ({"clusterer": "optics", "miro_dbscan": MIRO_DBSCAN}, "unknown clusterer"),
        ({"clusterer": "hdbscan", "miro_hdbscan": {"min_cluster_size": 1}}, "min_cluster_size"),
        ({"clusterer": "hdbscan", "miro_dbscan": MIRO_DBSCAN}, "DBSCAN parameters given"),
        ({"miro_dbscan": MIRO_DBSCAN, "unit": "mm"}, "unknown coordinate unit"),
        ({"miro_dbscan": MIRO_DBSCAN, "unit": "px"}, "pixel size"),
        ({"miro_dbscan": MIRO_DBSCAN, "pixel_size_nm": -1.0}, "pixel size"),
        ({"miro_dbscan": MIRO_DBSCAN, "output_formats": ["fcs"]}, "unknown output formats"),
        ({"miro_dbscan": MIRO_DBSCAN, "batch_size": 0}, "batch_size"),
    ],
)
def test_options_are_checked_before_files_and_squeeze(tmp_path, no_squeeze, options, message):
    """A bad option is reported even before the (here missing) input file is read."""
    with pytest.raises(ValueError, match=message):
        apply_to_files(
            [tmp_path / "missing.csv"], tmp_path / "nope.pt", out_dir=tmp_path, **options
        )
    assert not list(tmp_path.iterdir())


def test_existing_outputs_are_kept_without_force(acquisition, tmp_path):
    ckpt = checkpoint(tmp_path / "model.pt", random_model(), fov_nm=2500.0)
    out = tmp_path / "out"
    out.mkdir()
    (out / "cell.map.png").write_bytes(b"mine")
    with pytest.raises(OutputExistsError, match=r"cell\.map\.png.*--force"):
        apply_to_file(acquisition, ckpt, miro_dbscan=MIRO_DBSCAN, out_dir=out, device="cpu")
    assert [p.name for p in out.iterdir()] == ["cell.map.png"]
    assert (out / "cell.map.png").read_bytes() == b"mine"
    applied = apply_to_file(
        acquisition, ckpt, miro_dbscan=MIRO_DBSCAN, out_dir=out, device="cpu", force=True
    )
    assert (out / "cell.map.png").read_bytes() != b"mine" and applied.paths["labels"].exists()


def test_a_folder_stands_for_its_localization_files(acquisition, tmp_path):
    ckpt = checkpoint(tmp_path / "model.pt", random_model(), fov_nm=2500.0)
    cells = tmp_path / "cells"
    cells.mkdir()
    for name in ("b.csv", "a.tsv"):
        table = pd.read_csv(acquisition)
        table.to_csv(cells / name, sep="\t" if name.endswith("tsv") else ",", index=False)
    (cells / "notes.md").write_text("not localizations")
    (cells / "a.yaml").write_text("Pixelsize: 100\n")  # a sidecar, never an input of its own
    written = apply_to_files([cells], ckpt, miro_dbscan=MIRO_DBSCAN, out_dir=tmp_path / "out")
    assert [w.paths["labels"].name for w in written] == ["a.labels.csv", "b.labels.csv"]
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(LocalizationFileError, match=r"empty: a folder without localization"):
        apply_to_files([empty], ckpt, miro_dbscan=MIRO_DBSCAN, out_dir=tmp_path / "out2")


@pytest.mark.parametrize(
    "content",
    [
        b"x,y\n1,2\n3,4\n",  # a CSV
        bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8)),  # random bytes
        None,  # a torch file without MIRO's keys
    ],
)
def test_a_file_that_is_not_a_checkpoint_is_named(tmp_path, content):
    path = tmp_path / "model.pt"
    if content is None:
        torch.save({"weights": torch.zeros(3)}, path)
    else:
        path.write_bytes(content)
    with pytest.raises(ValueError, match=r"model\.pt: not a MIRO checkpoint") as err:
        load_model(path, None, None)
    assert "weights_only" not in str(err.value)


@pytest.mark.parametrize("unit, factor", [("um", 1e-3), ("px", 1 / 160.0)])
def test_coordinates_in_other_units_are_refused_or_converted(acquisition, tmp_path, unit, factor):
    ckpt = checkpoint(tmp_path / "model.pt", random_model(), fov_nm=2500.0)
    table = pd.read_csv(acquisition)
    table = table.rename(columns={"x [nm]": "x", "y [nm]": "y"})
    table[["x", "y"]] *= factor
    other = write_csv_atomic(table, tmp_path / "other.csv")
    with pytest.raises(
        LocalizationFileError, match=rf"other\.csv: coordinates do not look like nm.*--unit {unit}"
    ):
        apply_to_file(other, ckpt, miro_dbscan=MIRO_DBSCAN, out_dir=tmp_path / "refused")
    assert not (tmp_path / "refused").exists()
    pixel = {"pixel_size_nm": 160.0} if unit == "px" else {}
    converted = apply_to_file(
        other, ckpt, miro_dbscan=MIRO_DBSCAN, out_dir=tmp_path / "a", unit=unit, **pixel
    )
    in_nm = apply_to_file(acquisition, ckpt, miro_dbscan=MIRO_DBSCAN, out_dir=tmp_path / "b")
    a, b = (pd.read_csv(x.paths["labels"]) for x in (converted, in_nm))
    np.testing.assert_allclose(
        a[["x", "y", "x_squeezed", "y_squeezed"]],
        b[["x", "y", "x_squeezed", "y_squeezed"]],
        atol=1e-6,
    )
    np.testing.assert_array_equal(a["miro_cluster"], b["miro_cluster"])


def test_a_labels_file_as_input_is_refused(acquisition, tmp_path):
    ckpt = checkpoint(tmp_path / "model.pt", random_model(), fov_nm=2500.0)
    first = apply_to_file(acquisition, ckpt, miro_dbscan=MIRO_DBSCAN, out_dir=tmp_path / "a")
    with pytest.raises(LocalizationFileError, match=r"cell\.labels\.csv: has columns"):
        apply_to_file(first.paths["labels"], ckpt, miro_dbscan=MIRO_DBSCAN, out_dir=tmp_path / "b")


def test_outputs_for_thunderstorm_and_picasso_reopen_with_the_clusters(acquisition, tmp_path):
    ckpt = checkpoint(tmp_path / "model.pt", random_model(), fov_nm=2500.0)
    applied = apply_to_file(
        acquisition,
        ckpt,
        miro_dbscan=MIRO_DBSCAN,
        out_dir=tmp_path / "out",
        output_formats=["thunderstorm", "picasso"],
        pixel_size_nm=100.0,
    )
    labels = pd.read_csv(applied.paths["labels"])
    assert labels["miro_cluster"].max() > 1
    thunderstorm = read_localizations(applied.paths["thunderstorm"])
    np.testing.assert_array_equal(thunderstorm["cluster"], labels["miro_cluster"])
    np.testing.assert_allclose(thunderstorm[["x", "y"]], labels[["x", "y"]])
    picasso = read_localizations(applied.paths["picasso"])  # finds its .yaml sidecar
    assert applied.paths["picasso_yaml"].exists()
    np.testing.assert_array_equal(picasso["group"], labels["miro_cluster"] - 1)
    np.testing.assert_allclose(picasso[["x", "y"]], labels[["x", "y"]], atol=1e-3)


def test_a_picasso_input_gives_the_clusters_of_the_same_localizations_in_nm(acquisition, tmp_path):
    ckpt = checkpoint(tmp_path / "model.pt", random_model(), fov_nm=2500.0)
    table = read_localizations(acquisition)
    picasso = tmp_path / "cell_px.hdf5"
    write_localizations(table, picasso, "picasso", "true_cluster", pixel_size_nm=100.0)
    from_px = apply_to_file(picasso, ckpt, miro_dbscan=MIRO_DBSCAN, out_dir=tmp_path / "a")
    from_nm = apply_to_file(acquisition, ckpt, miro_dbscan=MIRO_DBSCAN, out_dir=tmp_path / "b")
    a, b = (pd.read_csv(x.paths["labels"]) for x in (from_px, from_nm))
    np.testing.assert_allclose(a[["x", "y"]], b[["x", "y"]], atol=1e-3)  # float32 pixels
    np.testing.assert_array_equal(a["miro_cluster"], b["miro_cluster"])


def test_picasso_output_without_a_pixel_size_is_refused_before_any_output(acquisition, tmp_path):
    ckpt = checkpoint(tmp_path / "model.pt", random_model(), fov_nm=2500.0)
    out = tmp_path / "out"
    with pytest.raises(LocalizationFileError, match=r"cell\.csv: a Picasso output.*--pixel-size"):
        apply_to_file(
            acquisition, ckpt, miro_dbscan=MIRO_DBSCAN, out_dir=out, output_formats=["picasso"]
        )
    assert not out.exists()


def test_unit_of_a_file_that_states_its_own_is_not_applied_twice(acquisition, tmp_path):
    ckpt = checkpoint(tmp_path / "model.pt", random_model(), fov_nm=2500.0)
    table = pd.read_csv(acquisition)
    table[["x [nm]", "y [nm]"]] /= 1000
    um = write_csv_atomic(
        table.rename(columns={"x [nm]": "x [µm]", "y [nm]": "y [µm]"}), tmp_path / "um.csv"
    )
    with pytest.raises(LocalizationFileError, match=r"um\.csv: its coordinates are in µm"):
        apply_to_file(um, ckpt, miro_dbscan=MIRO_DBSCAN, out_dir=tmp_path / "x", unit="um")
    converted = apply_to_file(um, ckpt, miro_dbscan=MIRO_DBSCAN, out_dir=tmp_path / "ok")
    labels = pd.read_csv(converted.paths["labels"])
    np.testing.assert_allclose(labels[["x", "y"]], pd.read_csv(acquisition)[["x [nm]", "y [nm]"]])


def test_one_cluster_holding_most_localizations_is_warned_about(acquisition, tmp_path, caplog):
    ckpt = checkpoint(tmp_path / "model.pt", random_model(), fov_nm=2500.0)
    coarse = {"eps": 2000.0, "min_samples": 4}
    with caplog.at_level("WARNING"):
        applied = apply_to_file(
            acquisition, ckpt, miro_dbscan=coarse, baseline_dbscan=coarse, out_dir=tmp_path
        )
    assert len(applied.warnings) == 2
    assert "MIRO + DBSCAN cluster holds" in applied.warnings[0]
    assert "smaller eps" in applied.warnings[0] and "DBSCAN eps 2000 nm" in applied.warnings[0]
    assert applied.warnings[0] in caplog.text
    fine = apply_to_file(
        acquisition, ckpt, miro_dbscan=MIRO_DBSCAN, out_dir=tmp_path / "fine", device="cpu"
    )
    assert fine.warnings == ()


def blobs(seed: int, n_blobs: int = 5, per_blob: int = 60) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian blobs (sd 20 nm) 1 μm apart on a line, and their labels 1..n_blobs."""
    rng = np.random.default_rng(seed)
    centres = np.column_stack([1000.0 * np.arange(1, n_blobs + 1), np.full(n_blobs, 1000.0)])
    coords = np.concatenate([rng.normal(c, 20.0, (per_blob, 2)) for c in centres])
    return coords, np.repeat(np.arange(1, n_blobs + 1), per_blob)


def test_hdbscan_finds_separate_blobs():
    coords, truth = blobs(0)
    labels = hdbscan_labels(coords, min_cluster_size=10)
    assert labels.min() >= 0 and len(np.unique(labels[labels > 0])) == 5
    for k in range(1, 6):  # each blob is one cluster
        assert np.bincount(labels[truth == k]).max() >= 0.9 * 60


def test_apply_with_hdbscan(acquisition, tmp_path):
    model = random_model()
    ckpt = checkpoint(tmp_path / "model.pt", model, fov_nm=2500.0)
    params = {"min_cluster_size": 8, "min_samples": 4}
    applied = apply_to_file(
        acquisition, ckpt, clusterer="hdbscan", miro_hdbscan=params, out_dir=tmp_path, device="cpu"
    )
    labels = pd.read_csv(applied.paths["labels"])
    coords = labels[["x", "y"]].to_numpy()
    squeezed = squeeze_large(
        model, coords, RADIUS, window_nm=2500.0, overlap_nm=250.0, device="cpu"
    )
    np.testing.assert_array_equal(
        labels["miro_cluster"], hdbscan_labels(squeezed.squeezed_nm, **params)
    )
    assert "MIRO + HDBSCAN" in applied.summary


# ----------------------------------------------------------------------------- map
def grid_clusters(
    side: int = 5, spacing: float = 100.0, per: int = 20
) -> tuple[np.ndarray, np.ndarray]:
    """side x side touching clusters (squares of ``spacing`` nm, filled uniformly)."""
    rng = np.random.default_rng(1)
    cells = [(i, j) for i in range(side) for j in range(side)]
    coords = np.concatenate(
        [rng.uniform(0, spacing, (per, 2)) + spacing * np.array(c) for c in cells]
    )
    return coords, np.repeat(np.arange(1, len(cells) + 1), per)


def test_neighbouring_clusters_get_different_colours():
    side = 6
    centroids = np.array([(i, j) for i in range(side) for j in range(side)], dtype=float)
    colors = neighbour_colors(centroids)
    grid = colors.reshape(side, side)
    assert (grid[1:] != grid[:-1]).all() and (grid[:, 1:] != grid[:, :-1]).all()
    assert len(np.unique(colors)) > 4  # the palette is spread, not 4 colours over and over
    assert 0 <= colors.min() and colors.max() < len(MAP_PALETTE)
    assert len(set(neighbour_colors(np.array([[0.0, 0.0], [1.0, 0.0], [2.0, 0.0]])))) == 3
    line = neighbour_colors(np.column_stack([np.arange(30.0)[::-1], np.zeros(30)]))
    assert (line[1:] != line[:-1]).all()  # collinear: neighbours along the line differ


def test_map_has_axes_legend_title_and_distinct_neighbours():
    coords, labels = grid_clusters()
    noise = np.random.default_rng(2).uniform(0, 500, (50, 2))
    coords, labels = np.concatenate([coords, noise]), np.concatenate([labels, np.zeros(50, int)])
    fig = map_figure(
        coords,
        {"MIRO": labels},
        {"MIRO": "MIRO + DBSCAN eps 20 nm, min_samples 5"},
        "cell: model Integrin/miro/model.pt",
    )
    ax = fig.axes[0]
    assert ax.get_xlabel() == "x (μm)" and ax.get_ylabel() == "y (μm)"
    assert "eps 20 nm" in ax.get_title() and "model.pt" in fig._suptitle.get_text()
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert texts == ["background: 50 localizations", "25 clusters: 500 localizations"]
    background, clustered = ax.collections[:2]
    assert background.get_facecolor()[0][3] == 1.0  # opaque grey, drawn first
    np.testing.assert_allclose(clustered.get_offsets(), coords[labels > 0] / 1000)
    grid = clustered.get_facecolor()[::20].reshape(5, 5, 4)  # one colour per cluster
    for a, b in [(grid[1:], grid[:-1]), (grid[:, 1:], grid[:, :-1])]:
        assert not np.any(np.all(a == b, axis=-1))


def test_simulated_acquisition_is_seeded_and_readable(tmp_path):
    a = simulate_acquisition(3, fov_size=3000.0, n_clusters=10)
    pd.testing.assert_frame_equal(a, simulate_acquisition(3, fov_size=3000.0, n_clusters=10))
    assert not a.equals(simulate_acquisition(4, fov_size=3000.0, n_clusters=10))
    assert a["frame"].is_monotonic_increasing
    read = read_localizations(write_csv_atomic(a, tmp_path / "a.csv"))
    np.testing.assert_array_equal(read[["x", "y"]], a[["x [nm]", "y [nm]"]])
