"""Few-shot augmentation (miro.data.augment): paper Methods, "MIRO training and augmentations";
docs/reference.md, "Augmentation"."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import torch
from scipy.spatial.distance import pdist

from miro.config import benchmark_row
from miro.data.augment import (
    AugmentSettings,
    augment_graphs,
    augment_point_clouds,
    load_graphs,
    save_graphs,
    settings_for_benchmark,
    settings_for_dataset,
    settings_from_data,
    training_structures,
)
from miro.data.benchmark import list_fovs
from miro.data.readers import read_localizations

EXACT = AugmentSettings(num_additions=0, jitter_sd=0.0, draw_fraction=(1.0, 1.0))


def synthetic_fov(
    seed: int, clusters: int = 6, size: int = 20, background: int = 80
) -> pd.DataFrame:
    """A 2000 nm FOV: Gaussian clusters (sd 30 nm) with shape classes, uniform background."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(200, 1800, (clusters, 2))
    xy = np.concatenate(
        [c + rng.normal(0, 30, (size, 2)) for c in centres]
        + [rng.uniform(0, 2000, (background, 2))]
    )
    index = np.concatenate([np.repeat(np.arange(1, clusters + 1), size), np.zeros(background, int)])
    cls = np.where(index > 0, 1 + index % 2, 0)
    return pd.DataFrame({"x": xy[:, 0], "y": xy[:, 1], "index": index, "class": cls})


def ring_fov(seed: int, rings: int = 4) -> pd.DataFrame:
    """Multiscale FOV: rings (index_coarse) of 8 spots (index) of 6 localizations, + background."""
    rng = np.random.default_rng(seed)
    rows = []
    for r in range(rings):
        centre = rng.uniform(300, 1700, 2)
        for s in range(8):
            angle = 2 * np.pi * s / 8
            spot = centre + 100 * np.array([np.cos(angle), np.sin(angle)])
            for p in spot + rng.normal(0, 8, (6, 2)):
                rows.append((*p, 8 * r + s + 1, r + 1, 1 + r % 2))
    for p in rng.uniform(0, 2000, (60, 2)):
        rows.append((*p, 0, 0, 0))
    return pd.DataFrame(rows, columns=["x", "y", "index", "index_coarse", "class"])


@pytest.fixture(scope="module")
def fovs() -> list[pd.DataFrame]:
    return [synthetic_fov(k) for k in range(3)]


def clusters_of(cloud):
    return [np.flatnonzero(cloud.labels == k) for k in range(1, cloud.labels.max() + 1)]


def test_same_seed_same_clouds_other_seed_differs(fovs):
    a, b, c = (list(augment_point_clouds(fovs, 4, AugmentSettings(), s)) for s in (5, 5, 6))
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x.positions, y.positions)
        np.testing.assert_array_equal(x.labels, y.labels)
    assert not np.array_equal(a[0].positions[:10], c[0].positions[:10])
    assert len({x.positions[0].tobytes() for x in a}) == 4  # samples of one seed differ too


def test_chunks_concatenate_to_one_run(fovs):
    settings = replace(AugmentSettings(), background="resample", clusters_per_fov=(3, 6))
    whole = list(augment_point_clouds(fovs, 9, settings, 11))
    chunks = [
        c
        for start, n in ((0, 4), (4, 2), (6, 3))
        for c in augment_point_clouds(fovs, n, settings, 11, start=start)
    ]
    for x, y in zip(whole, chunks, strict=True):
        np.testing.assert_array_equal(x.positions, y.positions)
        np.testing.assert_array_equal(x.labels, y.labels)
    serial = [g for s in (0, 3) for g in augment_graphs(fovs, 3, settings, 11, 0.1, start=s)]
    pooled = augment_graphs(fovs, 6, settings, 11, 0.1, n_jobs=2)
    assert len(pooled) == 6
    for g, h in zip(serial, pooled, strict=True):
        for key in ("x", "edge_index", "edge_attr", "pos", "y", "labels", "classes"):
            assert torch.equal(g[key], h[key]), key


def test_cluster_counts_within_draw_range(fovs):
    settings = AugmentSettings(num_additions=2, draw_fraction=(0.2, 0.3), clusters_per_fov=(4, 7))
    sizes = [len(s.offsets) * 2**2 for s in training_structures(fovs).structures]
    for cloud in augment_point_clouds(fovs, 5, settings, 3):
        members = clusters_of(cloud)
        assert 4 <= len(members) <= 7
        for rows in members:
            (source,) = np.unique(cloud.sources[rows])
            assert round(0.2 * sizes[source]) <= len(rows) <= round(0.3 * sizes[source])


def test_rotations_and_reflections_preserve_distances(fovs):
    structures = training_structures(fovs).structures
    for cloud in augment_point_clouds(fovs, 4, EXACT, 0):
        for rows in clusters_of(cloud):
            source = structures[cloud.sources[rows[0]]].offsets
            np.testing.assert_allclose(
                np.sort(pdist(cloud.positions[rows])), np.sort(pdist(source)), atol=1e-12
            )


def chirality(points: np.ndarray) -> float:
    """Sign of the triangle of a 3-point cluster, vertices ordered by distance to the centroid."""
    a, b, c = points[np.argsort(np.linalg.norm(points - points.mean(axis=0), axis=1))]
    (u, v), (w, z) = b - a, c - a
    return np.sign(u * z - v * w)


@pytest.mark.parametrize("reflect", [True, False])
def test_reflections_mirror_half_of_the_clusters(reflect):
    triangle = [(1000, 1000, 1), (1060, 1000, 1), (1000, 1110, 1), (0, 0, 0), (2000, 2000, 0)]
    fov = pd.DataFrame(triangle, columns=["x", "y", "index"])
    settings = replace(EXACT, reflect=reflect, clusters_per_fov=(10, 10))
    signs = [
        chirality(cloud.positions[rows])
        for cloud in augment_point_clouds([fov], 6, settings, 1)
        for rows in clusters_of(cloud)
    ]
    original = chirality(fov[["x", "y"]].to_numpy(float)[:3])
    mirrored = np.mean(np.array(signs) != original)
    assert (0.3 < mirrored < 0.7) if reflect else mirrored == 0


def test_jitter_has_the_set_standard_deviation():
    lattice = [(x, y, 1) for x in (900, 1000, 1100) for y in (900, 1000, 1100)]
    fov = pd.DataFrame([*lattice, (0, 0, 0), (2000, 2000, 0)], columns=["x", "y", "index"])
    sd = 0.002  # lattice spacing 0.05 >> sd: each point's nearest neighbour is its jittered copy
    settings = replace(EXACT, num_additions=1, jitter_sd=sd, reflect=True)
    nearest = []
    for seed in range(40):  # each seed densifies anew
        cloud = next(augment_point_clouds([fov], 1, settings, seed))
        for rows in clusters_of(cloud):
            d = np.linalg.norm(cloud.positions[rows, None] - cloud.positions[None, rows], axis=2)
            np.fill_diagonal(d, np.inf)
            nearest.append(d.min(axis=1))
    # 2-D Gaussian offset: the distance is Rayleigh(sd), median sd * sqrt(2 ln 2) = 1.177 sd
    assert np.median(np.concatenate(nearest)) / sd == pytest.approx(np.sqrt(2 * np.log(2)), rel=0.1)


@pytest.mark.parametrize("background", ["uniform", "resample"])
def test_positions_stay_in_the_unit_square(background):
    wide = [synthetic_fov(k, clusters=3, size=40) for k in range(2)]
    for fov in wide:  # stretch clusters to ~0.15 of the FOV so that edge placement must clamp
        centre = fov.groupby("index")[["x", "y"]].transform("mean")
        fov.loc[fov["index"] > 0, ["x", "y"]] += 4 * (fov[["x", "y"]] - centre)[fov["index"] > 0]
    settings = replace(
        EXACT,
        background=background,
        placement=(0.0, 1.0),
        clusters_per_fov=(8, 8),
        background_fraction=(0.5, 0.5),
        background_additions=2,
    )
    structures = training_structures(wide).structures
    for cloud in augment_point_clouds(wide, 4, settings, 2):
        assert cloud.positions.min() >= 0 and cloud.positions.max() <= 1
        for rows in clusters_of(cloud):  # clamping moves clusters whole, never deforms them
            source = structures[cloud.sources[rows[0]]].offsets
            np.testing.assert_allclose(
                np.sort(pdist(cloud.positions[rows])), np.sort(pdist(source)), atol=1e-12
            )


def test_uniform_background_count_in_range(fovs):
    settings = AugmentSettings(background_count=(30, 45))
    counts = [(c.labels == 0).sum() for c in augment_point_clouds(fovs, 8, settings, 4)]
    assert min(counts) >= 30 and max(counts) <= 45 and len(set(counts)) > 1


def test_resampled_background_comes_from_a_flipped_training_fov(fovs):
    settings = replace(
        EXACT,
        background="resample",
        background_additions=0,
        background_fraction=(0.4, 0.6),
        clusters_per_fov=(5, 5),
    )
    training = training_structures(fovs)
    flips = set()
    for cloud in augment_point_clouds(fovs, 6, settings, 9):
        bg = cloud.positions[cloud.labels == 0]
        matches = [
            (len(source), fx, fy)
            for source in training.backgrounds
            for fx in (False, True)
            for fy in (False, True)
            if set(map(tuple, np.round(np.where([fx, fy], 1 - bg, bg), 12)))
            <= set(map(tuple, np.round(source, 12)))
        ]
        assert len(matches) == 1, "background is not a flipped subset of one training background"
        ((size, *flip),) = matches
        flips.add(tuple(flip))
        assert round(0.4 * size) <= len(bg) <= round(0.6 * size)
        for rows in clusters_of(cloud):  # centred in an empty 0.02 cell (full clusters, no jitter)
            cell = np.floor(cloud.positions[rows].mean(axis=0) / settings.grid)
            np.testing.assert_allclose(cloud.positions[rows].mean(axis=0), (cell + 0.5) * 0.02)
            assert not np.any(np.all(np.floor(bg / settings.grid) == cell, axis=1))
    assert len(flips) > 1  # random flips per axis


def test_targets_point_to_cluster_centroids(fovs):
    radius = 0.1
    clouds = list(augment_point_clouds(fovs, 2, AugmentSettings(), 8))
    graphs = augment_graphs(fovs, 2, AugmentSettings(), 8, radius)
    for cloud, graph in zip(clouds, graphs, strict=True):
        squeezed = cloud.positions - radius * graph.y.numpy().astype(float)
        assert np.all(graph.y.numpy()[cloud.labels == 0] == 0)
        for rows in clusters_of(cloud):
            centroid = cloud.positions[rows].mean(axis=0)
            np.testing.assert_allclose(
                squeezed[rows], np.broadcast_to(centroid, (len(rows), 2)), atol=1e-6
            )
        assert torch.equal(graph.classes, torch.from_numpy(cloud.classes))


def test_single_shot_draws_every_cluster_from_one_structure(fovs):
    settings = replace(EXACT, single_shot=True)
    structures = training_structures(fovs).structures
    clouds = list(augment_point_clouds(fovs, 4, settings, 21))
    sources = np.unique(np.concatenate([c.sources[c.labels > 0] for c in clouds]))
    assert len(sources) == 1
    reference = np.sort(pdist(structures[sources[0]].offsets))
    for cloud in clouds:
        for rows in clusters_of(cloud):
            np.testing.assert_allclose(np.sort(pdist(cloud.positions[rows])), reference, atol=1e-12)


def test_multiscale_rings_are_the_units_and_carry_their_spots():
    fovs = [ring_fov(k) for k in range(2)]
    settings = AugmentSettings(num_additions=1, draw_fraction=(0.4, 0.5), clusters_per_fov=(3, 5))
    training = training_structures(fovs)
    assert len(training.structures) == 8  # 4 rings per FOV
    graphs = augment_graphs(fovs, 2, settings, 5, 0.2)
    for cloud, graph in zip(augment_point_clouds(fovs, 2, settings, 5), graphs, strict=True):
        spots = cloud.early_labels
        assert np.all((spots > 0) == (cloud.labels > 0))  # every ring localization is in a spot
        for spot in np.unique(spots[spots > 0]):
            assert len(np.unique(cloud.labels[spots == spot])) == 1  # spot inside one ring
        for rows in clusters_of(cloud):
            (source,) = np.unique(cloud.sources[rows])  # a ring is drawn whole from one source
            assert set(cloud.classes[rows]) == set(training.structures[source].classes)
        assert hasattr(graph, "y_early") and graph.y_early.shape == graph.y.shape


def test_bad_inputs_raise_clear_errors(fovs):
    no_clusters = fovs[0].assign(index=0)
    with pytest.raises(ValueError, match="no annotated clusters"):
        list(augment_point_clouds([no_clusters], 1, AugmentSettings(), 0))
    with pytest.raises(ValueError, match=r"training FOV 1: missing column\(s\) \['y'\]"):
        training_structures([fovs[0], fovs[1].drop(columns="y")])
    with pytest.raises(ValueError, match="missing column 'index'"):
        training_structures([fovs[0].drop(columns="index")])
    with pytest.raises(ValueError, match="integer labels"):
        training_structures([fovs[0].assign(index=fovs[0]["index"] + 0.5)])
    with pytest.raises(ValueError, match="no training FOVs"):
        training_structures([])
    with pytest.raises(ValueError, match="disagree on the optional columns"):
        training_structures([fovs[0], fovs[1].drop(columns="class")])
    rings = ring_fov(0)
    with pytest.raises(ValueError, match="span several coarse"):
        training_structures([rings.assign(index=np.where(rings["index"] > 0, 1, 0))])
    with pytest.raises(ValueError, match="outside any coarse"):
        training_structures([rings.assign(index_coarse=0)])
    with pytest.raises(ValueError, match="draw_fraction"):
        AugmentSettings(draw_fraction=(0.5, 0.2))
    clusters_only = fovs[0][fovs[0]["index"] > 0]
    with pytest.raises(ValueError, match="needs non-clustered localizations"):
        list(augment_point_clouds([clusters_only], 1, AugmentSettings(background="resample"), 0))
    crowded = AugmentSettings(background="resample", clusters_per_fov=(3000, 3000))
    with pytest.raises(ValueError, match="empty grid cells"):
        list(augment_point_clouds(fovs, 1, crowded, 0))


def test_data_driven_settings_bracket_the_observed_counts(fovs):
    with pytest.raises(ValueError, match="no augmentation preset"):
        settings_for_benchmark("C-shapes")
    plain = settings_for_benchmark("C-shapes", fovs)
    assert plain.background == "uniform"
    assert plain.clusters_per_fov[0] < 6 < plain.clusters_per_fov[1]
    assert plain.background_count[0] < 80 < plain.background_count[1]
    blinking = settings_from_data(fovs, blinking=True)
    drawn = np.array(blinking.background_fraction) * 2**blinking.background_additions * 80
    assert blinking.background == "resample" and drawn[0] < 80 < drawn[1]


def test_settings_for_a_resolved_dataset(fovs):
    benchmark = {"folder": "Multiple Blinking - Scenario 8", "augment": {"single_shot": True}}
    preset = settings_for_dataset(benchmark, fovs)
    assert preset == replace(settings_for_benchmark(benchmark["folder"]), single_shot=True)
    simulated = {"folder": None, "params": {"blinking": True}, "augment": {"single_shot": False}}
    assert settings_for_dataset(simulated, fovs) == settings_from_data(fovs, blinking=True)


def test_scenario8_preset_keeps_the_benchmark_clusters_whole(benchmark_dir):
    folder = "Ground Truth - Scenario 8"
    files = list_fovs(benchmark_dir / folder)
    train = [int(n) for n in benchmark_row(folder)["train_fovs"].split()]  # the paper's
    fovs = [read_localizations(files[f], fmt="benchmark") for f in train]
    settings = settings_for_benchmark(folder)
    sizes = [len(s.offsets) for s in training_structures(fovs).structures]
    assert len(sizes) == sum(f["index"].max() for f in fovs)
    cloud = next(augment_point_clouds(fovs, 1, settings, 0))
    low, high = settings.clusters_per_fov
    assert low <= cloud.labels.max() <= high
    for rows in clusters_of(cloud):
        assert len(rows) == sizes[cloud.sources[rows[0]]]


def test_save_and_load_graphs_round_trip(fovs, tmp_path):
    graphs = augment_graphs(fovs, 2, AugmentSettings(), 0, 0.2)
    path = tmp_path / "sub" / "graphs.pt"
    save_graphs(graphs, path)
    assert [p.name for p in path.parent.iterdir()] == ["graphs.pt"]  # no temporary left over
    for g, h in zip(graphs, load_graphs(path), strict=True):
        assert torch.equal(g.x, h.x) and torch.equal(g.y, h.y)
    with pytest.raises(FileNotFoundError, match="graph file not found"):
        load_graphs(tmp_path / "missing.pt")


def test_same_graphs_give_same_bytes(fovs, tmp_path):
    """torch.save names its archive after the file written: the random temporary name of an
    atomic write must not reach the bytes."""
    graphs = augment_graphs(fovs, 2, AugmentSettings(), 0, 0.2)
    save_graphs(graphs, tmp_path / "a.pt")
    save_graphs(augment_graphs(fovs, 2, AugmentSettings(), 0, 0.2), tmp_path / "b.pt")
    first = (tmp_path / "a.pt").read_bytes()
    assert first == (tmp_path / "b.pt").read_bytes()
    assert b".tmp." not in first


def _centroid_spacing(cloud) -> float:
    centroids = np.array([cloud.positions[rows].mean(axis=0) for rows in clusters_of(cloud)])
    return float(pdist(centroids).min())


def test_data_driven_spacing_is_the_closest_pair_of_the_training_fovs(fovs):
    """The synthetic FOVs are no more crowded than the annotated ones: the least centroid
    distance of one training FOV becomes the placement's minimum separation."""
    expected = []
    for fov in fovs:
        xy = fov[["x", "y"]].to_numpy()
        unit = (xy - xy.min(axis=0)) / (xy.max(axis=0) - xy.min(axis=0))
        ids = np.unique(fov["index"][fov["index"] > 0])
        expected.append(pdist(np.array([unit[fov["index"] == k].mean(axis=0) for k in ids])).min())
    assert training_structures(fovs).min_spacing == pytest.approx(min(expected))
    assert settings_from_data(fovs).min_separation == pytest.approx(min(expected))
    assert settings_from_data(fovs, blinking=True).min_separation == pytest.approx(min(expected))
    lone = synthetic_fov(5, clusters=1)
    assert settings_from_data([lone]).min_separation == 0.0


@pytest.mark.parametrize("background", ["uniform", "resample"])
def test_placement_keeps_the_minimum_separation(fovs, background):
    base = replace(EXACT, background=background, clusters_per_fov=(12, 12), placement=(0.2, 0.8))
    spaced = replace(base, min_separation=0.12)
    free = [_centroid_spacing(c) for c in augment_point_clouds(fovs, 10, base, 3)]
    kept = [_centroid_spacing(c) for c in augment_point_clouds(fovs, 10, spaced, 3)]
    assert min(kept) >= 0.12 - 1e-9
    assert min(free) < 0.12  # without it, 12 centres in 0.36 of the square come closer


def test_reference_placement_unchanged_without_separation(fovs):
    """min_separation 0 draws the centres exactly as the reference does (presets unchanged)."""
    settings = replace(EXACT, clusters_per_fov=(5, 5))
    cloud = next(iter(augment_point_clouds(fovs, 1, settings, 11)))
    rng = np.random.default_rng(np.random.SeedSequence(11, spawn_key=(1, 0)))
    rng.uniform(0.0, 1.0, (int(rng.integers(150, 250)), 2))
    centres = rng.uniform(*settings.placement, (int(rng.integers(5, 6)), 2))
    placed = np.array([cloud.positions[rows].mean(axis=0) for rows in clusters_of(cloud)])
    inside = np.all((centres > 0.15) & (centres < 0.85), axis=1)  # not moved inward
    np.testing.assert_allclose(placed[inside], centres[inside], atol=1e-12)


def test_crowded_placement_lowers_the_separation_instead_of_failing(fovs):
    """30 structures cannot lie 0.5 apart in the unit square: the separation shrinks until
    they fit, as far apart as that allows, and the augmentation goes on."""
    crowded = replace(EXACT, clusters_per_fov=(30, 30), min_separation=0.5)
    for background in ("uniform", "resample"):
        cloud = next(
            iter(augment_point_clouds(fovs, 1, replace(crowded, background=background), 0))
        )
        assert cloud.labels.max() == 30
        assert 0.05 < _centroid_spacing(cloud) < 0.5
    with pytest.raises(ValueError, match=r"min_separation must lie in \[0, 1\)"):
        AugmentSettings(min_separation=-0.1)
