from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from miro.data.simulate import (
    SCENARIO_TABLE,
    SCENARIOS,
    SIMULATORS,
    fov_size,
    load_scenarios,
    place_centres,
    simulate_dataset,
    simulate_fov,
    write_fov_csv,
)

SMALL = {  # fast parameter sets per family (defaults except the number of structures)
    "benchmark": {"scenario": 8, "blinking": True},
    "c_shaped": {"n_clusters": (5, 8)},
    "rings": {"n_clusters": (5, 8)},
    "multishape": {"shapes": ["c_shape", "ring"], "n_clusters": (4, 6)},
    "adjacent_pairs": {"n_pairs": 3},
    "integrin": {"n_clusters": (20, 30)},
    "multiscale_rings": {"n_rings": (5, 8)},
    "npc": {},
}


def cluster_sizes(df: pd.DataFrame, column: str = "index") -> pd.Series:
    return df.loc[df[column] > 0, column].value_counts()


def interior_sizes(df: pd.DataFrame, fov: float, margin: float) -> np.ndarray:
    """Sizes of clusters whose centroid is more than ``margin`` from every edge (never cropped)."""
    clustered = df[df["index"] > 0]
    centroid = clustered.groupby("index")[["x", "y"]].mean()
    inside = ((centroid > margin) & (centroid < fov - margin)).all(axis=1)
    return clustered["index"].value_counts()[centroid.index[inside]].to_numpy()


def check_format(df: pd.DataFrame, fov: float, levels=("index",)) -> None:
    """Columns, integer labels numbered 1..K, background labelled 0 at every level, in the FOV."""
    assert list(df.columns[:3]) == ["x", "y", "index"]
    assert df[["x", "y"]].to_numpy().min() >= 0 and df[["x", "y"]].to_numpy().max() <= fov
    for level in levels:
        labels = df[level].to_numpy()
        assert labels.dtype == np.int64
        assert set(np.unique(labels[labels > 0])) == set(range(1, labels.max() + 1))
    background = df["index"] == 0
    for level in levels:
        assert ((df[level] == 0) == background).all()


def background_matches(df: pd.DataFrame, fraction: float) -> bool:
    n_clustered = int((df["index"] > 0).sum())
    return int((df["index"] == 0).sum()) == round(n_clustered * fraction / (1 - fraction))


# ----------------------------------------------------------------------------- seeding
@pytest.mark.parametrize("family", sorted(SIMULATORS))
def test_same_seed_same_fov_and_different_seed_differs(family):
    a = simulate_fov(family, 11, **SMALL[family])
    pd.testing.assert_frame_equal(a, simulate_fov(family, 11, **SMALL[family]))
    b = simulate_fov(family, 12, **SMALL[family])
    assert len(a) != len(b) or not np.allclose(a[["x", "y"]], b[["x", "y"]])


def test_dataset_fovs_do_not_depend_on_n_fovs():
    three = simulate_dataset("rings", 3, 5, **SMALL["rings"])
    two = simulate_dataset("rings", 2, 5, **SMALL["rings"])
    for a, b in zip(two, three[:2], strict=True):
        pd.testing.assert_frame_equal(a, b)
    assert not three[0].equals(three[1])
    other_seed = simulate_dataset("rings", 1, 6, **SMALL["rings"])[0]
    assert not other_seed.equals(three[0])


def test_generator_is_used_as_given():
    rng = np.random.default_rng(3)
    first, second = simulate_fov("npc", rng), simulate_fov("npc", rng)
    assert not first.equals(second)
    pd.testing.assert_frame_equal(first, simulate_fov("npc", np.random.default_rng(3)))


# ----------------------------------------------------------------------------- Scenarios 2-10
# (clusters, molecules per cluster, non-clustered molecules), from the paper's Methods text.
PAPER_SCENARIOS = {
    2: (20, {15}, 300),
    3: (20, {15}, 1200),
    4: (20, {5}, 300),
    5: (100, {15}, 1500),
    6: (20, {50}, 1000),
    7: (20, {15}, 300),
    8: (20, {5, 15}, 200),
    9: (20, {15, 135}, 1500),
    10: (20, {15}, 300),
}


@pytest.mark.parametrize("scenario", sorted(PAPER_SCENARIOS))
def test_benchmark_scenario_counts(scenario):
    n_clusters, molecules, n_background = PAPER_SCENARIOS[scenario]
    df = simulate_fov("benchmark", scenario, scenario=scenario)
    sizes = cluster_sizes(df)
    assert len(sizes) == n_clusters and set(sizes) == molecules
    assert sorted(sizes.index) == list(range(1, n_clusters + 1))
    assert (df["index"] == 0).sum() == n_background
    background = df.loc[df["index"] == 0, ["x", "y"]].to_numpy()
    assert background.min() >= 0 and background.max() <= 2000


def test_every_scenario_value_has_a_source():
    table = pd.read_csv(SCENARIO_TABLE)
    assert sorted(SCENARIOS) == list(range(2, 11))
    assert table["source"].str.strip().str.len().min() > 10
    for number, scenario in SCENARIOS.items():
        fields = {
            "clustered_fraction",
            "background_gradient",
            "blinks_per_molecule",
            "localization_precision",
        }
        for k, group in enumerate(scenario.groups, 1):
            fields |= {f"group{k}.{f}" for f in ("n_clusters", "molecules", "sd")}
            if group.sd_minor is not None:
                fields.add(f"group{k}.sd_minor")
        assert set(scenario.sources) == fields, number
    assert "15.2 nm" in SCENARIOS[3].sources["group1.sd"]


def pooled_sd(fovs: list[pd.DataFrame]) -> float:
    """Pooled per-axis sd of the clusters: sqrt(sum of squares / (2 sum (n - 1)))."""
    squares, dof = 0.0, 0
    for df in fovs:
        clusters = df[df["index"] > 0].groupby("index")[["x", "y"]]
        squares += clusters.transform(lambda v: (v - v.mean()) ** 2).to_numpy().sum()
        dof += (df["index"] > 0).sum() - clusters.ngroups
    return float(np.sqrt(squares / (2 * dof)))


def test_scenario3_clusters_are_tighter_than_scenario2():
    """Spec README: pooled per-axis sd ~15 nm (Scenario 3) vs ~25 nm (Scenario 2)."""
    assert SCENARIOS[3].groups[0].sd == 15.0 and SCENARIOS[2].groups[0].sd == 25.0
    s2, s3 = (pooled_sd(simulate_dataset("benchmark", 5, 0, scenario=s)) for s in (2, 3))
    assert abs(s3 / 15 - 1) < 0.05 and abs(s2 / 25 - 1) < 0.05


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (lambda t: t.assign(source=t["source"].where(t.index != 3, "")), "no source"),
        (lambda t: t.drop(columns="source"), "lacks columns"),
        (lambda t: pd.concat([t, t.iloc[:1]]), "listed twice"),
        (lambda t: t[t["parameter"] != "clustered_fraction"], "missing"),
        (lambda t: t.assign(value=t["value"].where(t.index != 0, 2.5)), "n_clusters"),
    ],
)
def test_bad_scenario_table_names_the_file(tmp_path, edit, match):
    path = tmp_path / "table.csv"
    edit(pd.read_csv(SCENARIO_TABLE)).to_csv(path, index=False)
    with pytest.raises(ValueError, match=match) as error:
        load_scenarios(path)
    assert str(path) in str(error.value)


def test_benchmark_cluster_widths():
    """Scenario 7: half the clusters sd 25 nm, half 75 nm; Scenario 6 elongated."""
    df = pd.concat(
        [simulate_fov("benchmark", s, scenario=7).assign(fov=s) for s in range(10)]
    ).query("index > 0")
    sd = df.groupby(["fov", "index"])[["x", "y"]].std().pow(2).sum(axis=1).div(2).pow(0.5)
    narrow, wide = np.sort(sd.to_numpy()).reshape(2, -1)  # 100 per half
    assert abs(np.median(narrow) / 25 - 1) < 0.15 and abs(np.median(wide) / 75 - 1) < 0.15
    ellipses = simulate_fov("benchmark", 1, scenario=6).query("index > 0")
    ratios = [
        np.sqrt(np.divide(*np.linalg.eigvalsh(np.cov(c[["x", "y"]].T))[::-1]))
        for _, c in ellipses.groupby("index")
    ]
    assert np.median(ratios) > 3


def test_benchmark_gradient_rises_left_to_right():
    df = simulate_fov("benchmark", 0, scenario=3, background_gradient=True)
    x = df.loc[df["index"] == 0, "x"].to_numpy()  # 1200 points, density ~ x: mean 2/3 * 2000
    assert abs(x.mean() - 4000 / 3) < 5 * (2000 / np.sqrt(18)) / np.sqrt(x.size)
    flat = simulate_fov("benchmark", 0, scenario=3).query("index == 0")["x"]
    assert abs(flat.mean() - 1000) < 5 * (2000 / np.sqrt(12)) / np.sqrt(flat.size)


def test_benchmark_blinking_counts_precision_and_bounds():
    df = simulate_fov("benchmark", 2, scenario=5, blinking=True)
    check_format(df, 2000)
    assert df["index"].max() <= 100
    far = simulate_fov("benchmark", 2, scenario=5, blinking=True, fov_size=1e6)  # no edge loss
    per_molecule = len(far) / 3000  # geometric on {0, 1, ...}, mean 4, variance 20
    assert abs(per_molecule - 4) < 5 * np.sqrt(20 / 3000)
    point = simulate_fov(
        "benchmark",
        4,
        groups=[{"n_clusters": 1, "molecules": 3000, "sd": 1e-9}],
        clustered_fraction=1.0,
        blinking=True,
        fov_size=1e6,
    )
    offsets = point[["x", "y"]].to_numpy() - point[["x", "y"]].to_numpy().mean(axis=0)
    assert abs(offsets.std() - 13.5) < 5 * 13.5 / np.sqrt(2 * len(point))
    dark = simulate_fov("benchmark", 4, scenario=8, blinking=True, blinks_per_molecule=1e-9)
    assert len(dark) < 5  # almost every molecule stays dark


# ----------------------------------------------------------------------------- shapes
def principal_ratio(points: np.ndarray) -> float:
    small, large = np.linalg.eigvalsh(np.cov(points.T))
    return large / small


@pytest.mark.parametrize(
    ("family", "n_range", "locs", "fraction"),
    [("c_shaped", (30, 60), (30, 60), 0.06), ("rings", (60, 70), (60, 80), 0.07)],
)
def test_c_shapes_and_rings(family, n_range, locs, fraction):
    df = simulate_fov(family, 8)
    check_format(df, 6400)
    sizes = cluster_sizes(df)
    assert n_range[0] <= len(sizes) <= n_range[1]
    assert sizes.max() <= locs[1]
    inner = interior_sizes(df, 6400, 250 + 5 * 50)
    assert inner.size > 0 and inner.min() >= locs[0]
    assert background_matches(df, fraction)
    ratios = [
        principal_ratio(c[["x", "y"]].to_numpy()) for _, c in df.query("index > 0").groupby("index")
    ]
    if family == "rings":  # isotropic: both variances R^2/2 + sd^2
        assert np.median(ratios) < 1.5
    else:  # semicircle: R^2/2 across, R^2 (1/2 - 4/pi^2) along its axis (ratio ~4 with sd 50)
        assert np.median(ratios) > 2.5


def test_ring_radius():
    df = simulate_fov("rings", 1, n_clusters=(5, 5), locs=(2000, 2000), background_fraction=0)
    for _, c in df.groupby("index"):
        xy = c[["x", "y"]].to_numpy()
        r = np.linalg.norm(xy - xy.mean(axis=0), axis=1)
        assert abs(r.mean() - 250) < 10 and abs(r.std() - 50) < 5


@pytest.mark.parametrize("shapes", [("spot", "ellipse"), ("spot", "ring"), ("c_shape", "ring")])
def test_multishape_classes(shapes):
    df = simulate_fov("multishape", 9, shapes=list(shapes))
    check_format(df, 6400)
    assert set(df["class"]) == {0, 1, 2}
    assert ((df["class"] == 0) == (df["index"] == 0)).all()
    per_cluster = df[df["index"] > 0].groupby("index")["class"]
    assert (per_cluster.nunique() == 1).all()
    clusters_per_class = per_cluster.first().value_counts()
    assert clusters_per_class.between(15, 30).all()
    assert background_matches(df, 0.05)


def test_multishape_ellipse_is_elongated_and_spot_round():
    df = simulate_fov("multishape", 2, shapes=["spot", "ellipse"]).query("index > 0")
    ratio = df.groupby("index").apply(lambda c: principal_ratio(c[["x", "y"]].to_numpy()))
    kind = df.groupby("index")["class"].first()
    assert np.median(ratio[kind == 1]) < 2 and np.median(ratio[kind == 2]) > 4  # 1 vs 9


def test_multishape_custom_shape_from_mapping():
    custom = {"kind": "ellipse", "sd": 60.0, "sd_minor": 20.0, "locs": [10, 12]}
    df = simulate_fov("multishape", 0, shapes=["ring", custom], n_clusters=3)
    sizes = cluster_sizes(df)
    classes = df[df["index"] > 0].groupby("index")["class"].first()
    assert len(sizes) == 6 and sizes[classes == 2].between(1, 12).all()


# ----------------------------------------------------------------------------- nanoclusters
@pytest.mark.parametrize("distance", [0.5, 2.0, 5.0])
def test_adjacent_pairs_at_distance(distance):
    df = simulate_fov("adjacent_pairs", 1, distance=distance, n_pairs=4, mean_locs=3000)
    check_format(df, 2000)
    assert sorted(cluster_sizes(df).index) == list(range(1, 9))
    centroid = df[df["index"] > 0].groupby("index")[["x", "y"]].mean().to_numpy()
    pair_gap = np.linalg.norm(centroid[0::2] - centroid[1::2], axis=1) / 25
    assert np.allclose(pair_gap, distance, atol=0.15)  # centroid error ~ 25 / sqrt(3000) nm
    midpoints = (centroid[0::2] + centroid[1::2]) / 2
    apart = np.linalg.norm(midpoints[:, None] - midpoints[None], axis=2)[np.triu_indices(4, 1)]
    assert apart.min() >= (distance + 10) * 25 - 5
    assert background_matches(df, 0.05)


def test_adjacent_pairs_geometric_counts():
    fovs = simulate_dataset("adjacent_pairs", 30, 0, n_pairs=10)
    sizes = np.concatenate([cluster_sizes(d).to_numpy() for d in fovs])
    assert sizes.size == 600 and sizes.min() >= 1
    assert abs(sizes.mean() - 90) < 5 * 90 / np.sqrt(sizes.size)  # geometric sd ~ mean


def test_integrin_clusters():
    fovs = simulate_dataset("integrin", 3, 1)
    sizes = np.concatenate([cluster_sizes(d).to_numpy() for d in fovs])
    for df in fovs:
        check_format(df, 10_000)
        assert len(cluster_sizes(df)) <= 200
        assert background_matches(df, 0.04)
    assert abs(sizes.mean() - 25) < 5 * 25 / np.sqrt(sizes.size)
    big = simulate_fov("integrin", 5, n_clusters=20, mean_locs=2000).query("index > 0")
    sd = big.groupby("index")[["x", "y"]].std().pow(2).mean(axis=1).pow(0.5)
    sd = sd[big["index"].value_counts().sort_index() > 300]
    assert sd.between(25 * 0.85, 40 * 1.15).all()


# ----------------------------------------------------------------------------- multiscale
def check_nested(df: pd.DataFrame) -> pd.Series:
    """Every spot in exactly one ring; returns spots per ring."""
    clustered = df[df["index"] > 0]
    assert (clustered.groupby("index")["index_coarse"].nunique() == 1).all()
    return clustered.groupby("index_coarse")["index"].nunique()


def test_multiscale_rings_levels():
    df = simulate_fov("multiscale_rings", 4, n_rings=60)
    check_format(df, 1250, levels=("index", "index_coarse"))
    spots_per_ring = check_nested(df)
    assert len(spots_per_ring) == 60 and spots_per_ring.between(5, 9).all()
    sizes = cluster_sizes(df)
    assert sizes.max() <= 30 and interior_sizes(df, 1250, 40 + 5 * 15).min() >= 6
    assert background_matches(df, 0.015)


def test_npc_levels():
    df = simulate_fov("npc", 6, n_structures=9)
    check_format(df, 1250, levels=("index", "index_coarse"))
    corners_per_npc = check_nested(df)
    assert len(corners_per_npc) == 9 and corners_per_npc.max() <= 8
    assert cluster_sizes(df).max() <= 80
    assert background_matches(df, 0.03)
    one = simulate_fov("npc", 1, n_structures=1, locs_per_corner=4000, background_fraction=0)
    xy = one[["x", "y"]].to_numpy()
    corner_r = np.linalg.norm(one.groupby("index")[["x", "y"]].mean() - xy.mean(axis=0), axis=1)
    r = np.linalg.norm(xy - xy.mean(axis=0), axis=1)
    assert np.all(np.abs(corner_r - 50) < 10)  # corners around r = h / 2 = 50 nm
    assert 10 < np.percentile(r, 5) < 40 and 70 < np.percentile(r, 95) < 100  # ~20 to ~80 nm


# ----------------------------------------------------------------------------- I/O
def test_write_fov_csv_roundtrip(tmp_path: Path):
    df = simulate_fov("multiscale_rings", 0, n_rings=3)[["index_coarse", "y", "index", "x"]]
    path = write_fov_csv(df, tmp_path / "sub" / "fov_001.csv")
    back = pd.read_csv(path)
    assert list(back.columns) == ["x", "y", "index", "index_coarse"]
    np.testing.assert_allclose(back[["x", "y"]], df[["x", "y"]])
    assert (back["index"].to_numpy() == df["index"].to_numpy()).all()
    assert [p.name for p in path.parent.iterdir()] == ["fov_001.csv"]


def test_write_fov_csv_needs_benchmark_columns(tmp_path: Path):
    with pytest.raises(ValueError, match="index"):
        write_fov_csv(pd.DataFrame({"x": [1.0], "y": [2.0]}), tmp_path / "a.csv")
    assert not list(tmp_path.iterdir())


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("family", "params", "match"),
    [
        ("nope", {}, "unknown simulation family"),
        ("rings", {"radiuss": 3}, "unknown parameter"),
        ("rings", {"rng": 3}, "unknown parameter"),
        ("benchmark", {"scenario": 11}, "scenario"),
        ("benchmark", {"clustered_fraction": 0}, "clustered_fraction"),
        ("benchmark", {"groups": [{"n_clusters": 2, "molecule": 3}]}, "field"),
        ("benchmark", {"groups": [{"n_clusters": 2.5, "molecules": 3}]}, "n_clusters"),
        ("benchmark", {"blinking": True, "localization_precision": -1}, "precision"),
        ("rings", {"radius": -5}, "radius"),
        ("rings", {"background_fraction": 1.0}, "background_fraction"),
        ("rings", {"n_clusters": (70, 60)}, "n_clusters"),
        ("rings", {"locs": (1, 2, 3)}, "locs"),
        ("rings", {"locs": (10.5, 20)}, "integers"),
        ("rings", {"n_clusters": 500}, "cannot place"),
        ("c_shaped", {"fov_size": "big"}, "fov_size"),
        ("multishape", {"shapes": ["triangle"]}, "unknown shape"),
        ("multishape", {"shapes": []}, "at least one"),
        ("multishape", {"shapes": [{"kind": "blob", "sd": 1, "locs": 3}]}, "kind"),
        ("adjacent_pairs", {"distance": 0}, "distance"),
        ("adjacent_pairs", {"mean_locs": 0.5}, "mean_locs"),
        ("integrin", {"sd": (0, 10)}, "sd"),
        ("multiscale_rings", {"spot_sd": float("nan")}, "spot_sd"),
        ("npc", {"corners": 2}, "corners"),
    ],
)
def test_bad_parameters_raise_value_error(family, params, match):
    with pytest.raises(ValueError, match=match):
        simulate_fov(family, 0, **params)


@pytest.mark.parametrize(("n_fovs", "seed"), [(0, 1), (2, -1), (2, 1.5)])
def test_bad_dataset_arguments(n_fovs, seed):
    with pytest.raises(ValueError):
        simulate_dataset("rings", n_fovs, seed)


def test_place_centres_separation_and_margin():
    rng = np.random.default_rng(0)
    points = place_centres(rng, 50, 1000, margin=100, min_separation=80)
    gaps = np.linalg.norm(points[:, None] - points[None], axis=2)[np.triu_indices(50, 1)]
    assert gaps.min() >= 80 and points.min() >= 100 and points.max() <= 900
    with pytest.raises(ValueError, match="no room"):
        place_centres(rng, 3, 100, margin=60)


# ----------------------------------------------------------------------------- real data
@pytest.mark.benchmark_data
@pytest.mark.parametrize("folder", ["Ground Truth - Scenario 8", "Multiple Blinking - Scenario 8"])
def test_scenario8_matches_real_within_10_percent(benchmark_dir, folder):
    """The fidelity target of benchmarks/bench_simulate_fidelity.py on 10 FOVs each."""
    from scipy.spatial import cKDTree

    real = [pd.read_csv(p) for p in sorted((benchmark_dir / folder).glob("*.csv"))[:10]]
    sim = simulate_dataset("benchmark", 10, 0, scenario=8, blinking=folder.startswith("Multiple"))

    def summary(fovs):
        nn = np.concatenate([cKDTree(d[["x", "y"]]).query(d[["x", "y"]], 2)[0][:, 1] for d in fovs])
        sizes = np.concatenate([cluster_sizes(d).to_numpy() for d in fovs])
        return np.array([np.mean([len(d) for d in fovs]), sizes.mean(), np.median(nn)])

    assert np.all(np.abs(summary(sim) / summary(real) - 1) < 0.10)


@pytest.mark.parametrize("family", sorted(SIMULATORS))
def test_fov_size_is_the_side_of_the_simulated_fovs(family):
    side = fov_size(family, SMALL[family])
    xy = simulate_fov(family, 1, **SMALL[family])[["x", "y"]].to_numpy()
    assert xy.min() >= 0 and xy.max() <= side and xy.max() > 0.9 * side
    assert fov_size(family, {"fov_size": 1234}) == 1234.0
    with pytest.raises(ValueError, match="unknown simulation family 'nope'"):
        fov_size("nope", {})
