"""Tests for miro.core.graph: normalisation, edges, Laplacian eigenvector features, targets."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.sparse.csgraph import connected_components
from scipy.spatial import Delaunay

from miro.core.graph import Normalization, build_graph, fov_graph, targets


def brute_force_edges(points: np.ndarray, radius: float) -> set[tuple[int, int]]:
    """Directed Delaunay edges shorter than radius, by a plain loop over the triangles."""
    edges = set()
    for triangle in Delaunay(points).simplices:
        for a in triangle:
            for b in triangle:
                if a != b and np.linalg.norm(points[a] - points[b]) < radius:
                    edges.add((int(a), int(b)))
    return edges


def dense_laplacian(n: int, edge_index: np.ndarray) -> np.ndarray:
    adjacency = np.zeros((n, n))
    adjacency[edge_index[0], edge_index[1]] = 1.0
    d = adjacency.sum(1) ** -0.5
    return np.eye(n) - d[:, None] * adjacency * d[None, :]


def test_normalization_round_trip_and_zero_extent():
    coords = np.array([[10.0, 5.0], [30.0, 5.0], [20.0, 5.0]])
    norm = Normalization.fit(coords)
    forward = norm.forward(coords)
    assert forward[:, 0].min() == 0 and forward[:, 0].max() == 1
    assert np.all(forward[:, 1] == 0) and norm.scale[1] == 1.0
    np.testing.assert_allclose(norm.inverse(forward), coords, rtol=0, atol=1e-12)


def test_edges_match_brute_force_and_conventions():
    points = np.random.default_rng(0).random((150, 2))
    radius = 0.12
    g = build_graph(points, radius)
    ei = g.edge_index.numpy()
    assert set(map(tuple, ei.T.tolist())) == brute_force_edges(points, radius)
    keys = ei[0] * len(points) + ei[1]
    assert np.all(np.diff(keys) > 0)  # sorted by (sender, receiver), no duplicates
    delta = points[ei[0]] - points[ei[1]]  # sender - receiver
    expected = np.column_stack([delta, np.linalg.norm(delta, axis=1)]) / radius
    np.testing.assert_allclose(g.edge_attr.numpy(), expected, atol=1e-6)
    assert g.radius == radius and g.pos.shape == (150, 2)


def test_edge_kept_only_strictly_below_radius():
    points = np.array([[0.0, 0.0], [0.5, 0.0], [0.0, 1.0]])
    assert (0, 1) not in set(map(tuple, build_graph(points, 0.5).edge_index.T.tolist()))
    assert (0, 1) in set(map(tuple, build_graph(points, 0.5000001).edge_index.T.tolist()))


def test_features_match_full_eigendecomposition_on_benchmark_fov(benchmark_dir):
    frame = pd.read_csv(benchmark_dir / "Ground Truth - Scenario 8" / "diffden_MoleculeList_1.csv")
    g, _ = fov_graph(frame[["x", "y"]].to_numpy(), 0.2)
    n = g.num_nodes
    assert connected_components(dense_laplacian(n, g.edge_index.numpy()) != 0)[0] == 1
    values, vectors = np.linalg.eigh(dense_laplacian(n, g.edge_index.numpy()))
    assert np.all(np.diff(values[:7]) > 1e-6)  # non-degenerate: eigenvectors defined up to sign
    np.testing.assert_allclose(g.x.numpy(), np.abs(vectors[:, 1:6]), atol=1e-5)
    assert g.x.dtype.is_floating_point and g.x.shape == (n, 5)


def test_features_deterministic_and_per_component_with_several_components():
    rng = np.random.default_rng(1)
    sizes = [200, 120, 30]  # sparse, sparse and dense paths; three null vectors
    centres = [(0.2, 0.2), (0.8, 0.8), (0.2, 0.8)]
    points = np.concatenate(
        [rng.normal(c, 0.03, (s, 2)) for c, s in zip(centres, sizes, strict=True)]
    )
    first, second = build_graph(points, 0.1), build_graph(points, 0.1)
    assert np.array_equal(first.x.numpy(), second.x.numpy())
    n, ei = len(points), first.edge_index.numpy()
    count, component = connected_components(dense_laplacian(n, ei) != 0)
    assert count == 3
    degree = np.bincount(ei[1], minlength=n).astype(float)
    # columns 0, 1: the trivial vectors of the second and third largest components
    for column, members in enumerate([component == component[200], component == component[320]]):
        expected = np.where(members, np.sqrt(degree), 0.0)
        np.testing.assert_allclose(first.x[:, column], expected / np.linalg.norm(expected), 1e-5)


def test_invalid_coordinates_raise():
    with pytest.raises(ValueError, match="NaN or inf"):
        fov_graph(np.array([[0.0, 0.0], [1.0, np.nan], [2.0, 1.0]]), 0.2)
    with pytest.raises(ValueError, match="NaN or inf"):
        build_graph(np.array([[0.0, 0.0], [1.0, np.inf], [0.5, 1.0]]), 0.2)
    with pytest.raises(ValueError, match="at least 3 points"):
        fov_graph(np.array([[0.0, 0.0], [1.0, 1.0]]), 0.2)
    with pytest.raises(ValueError, match=r"shape \(N, 2\)"):
        fov_graph(np.zeros((5, 3)), 0.2)
    with pytest.raises(ValueError, match="radius"):
        build_graph(np.random.default_rng(0).random((5, 2)), 0.0)


def test_duplicates_are_linked_by_zero_length_edges():
    points = np.random.default_rng(2).random((20, 2))
    points = np.concatenate([points, points[[3, 3, 7]]])  # node 3 three times, node 7 twice
    g = build_graph(points, 0.5)
    edges = set(map(tuple, g.edge_index.T.tolist()))
    assert {(3, 20), (3, 21), (20, 21), (7, 22), (22, 7)} <= edges
    zero = g.edge_attr[:, 2] == 0
    assert zero.sum() == 8  # 3 + 1 undirected pairs, both directions
    assert np.isfinite(g.x.numpy()).all()


def test_collinear_points_form_a_chain():
    t = np.array([0.0, 0.3, 0.1, 0.2, 0.9])
    g = build_graph(np.column_stack([t, 2 * t]), 2.0)
    chain = {(2, 3), (3, 1), (1, 4), (0, 2)}
    expected = chain | {(b, a) for a, b in chain}
    assert set(map(tuple, g.edge_index.T.tolist())) == expected


def test_isolated_nodes_and_padding():
    points = np.array([[0.0, 0.0], [0.05, 0.0], [0.0, 0.05], [0.9, 0.9]])
    g = build_graph(points, 0.2)
    assert g.x.shape == (4, 5) and np.isfinite(g.x.numpy()).all()
    assert not (g.edge_index == 3).any()  # node 3 is isolated
    assert np.all(g.x[:, 3:].numpy() == 0)  # only 4 eigenpairs exist: last 2 columns padded


def test_targets_displace_to_centroids():
    rng = np.random.default_rng(3)
    points = rng.random((30, 2))
    labels = rng.integers(0, 4, 30)
    y = targets(points, labels, 0.1)
    squeezed = points - 0.1 * y
    for k in range(1, 4):
        centroid = np.broadcast_to(points[labels == k].mean(0), squeezed[labels == k].shape)
        np.testing.assert_allclose(squeezed[labels == k], centroid, rtol=1e-6)
    assert np.all(y[labels == 0] == 0)


def test_build_graph_optional_fields():
    rng = np.random.default_rng(4)
    points = rng.random((40, 2))
    labels, early, classes = rng.integers(0, 3, 40), rng.integers(0, 6, 40), rng.integers(0, 2, 40)
    g = build_graph(points, 0.3, labels=labels, early_labels=early, classes=classes)
    np.testing.assert_allclose(g.y.numpy(), targets(points, labels, 0.3))
    np.testing.assert_allclose(g.y_early.numpy(), targets(points, early, 0.3))
    assert g.labels.tolist() == labels.tolist() and g.classes.tolist() == classes.tolist()
    with pytest.raises(ValueError, match="labels must have shape"):
        build_graph(points, 0.3, labels=labels[:5])
