"""MIRO graph representation of one SMLM field of view (paper Methods, "MIRO graph representation").

Coordinates are min-max normalised per axis (`Normalization`), connected by a Delaunay
triangulation whose edges are kept only when strictly shorter than the connectivity radius r,
and stored in both directions, sorted by (sender, receiver), ``edge_index[0]`` = sender j,
``edge_index[1]`` = receiver i. Edge features are ``[dx, dy, distance] / r`` with
``(dx, dy) = p_sender - p_receiver``; node features are the absolute values of the 5
eigenvectors of ``I - D^-1/2 A D^-1/2`` with the smallest non-trivial eigenvalues
(``docs/reference.md#graph``).

Degenerate input has defined behaviour: duplicate points are triangulated once and linked to
each other by zero-length edges; when all points are collinear the Delaunay graph reduces to the
chain of neighbours along the line; isolated nodes get ``D^-1/2 = 0`` (no NaN).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from scipy.sparse import coo_matrix, csr_matrix, diags, identity
from scipy.sparse.csgraph import connected_components
from scipy.sparse.linalg import eigsh
from scipy.spatial import Delaunay, QhullError
from threadpoolctl import ThreadpoolController
from torch_geometric.data import Data

NUM_EIGENVECTORS = 5
SPARSE_MIN_NODES = 100  # components this large use sparse eigsh, smaller ones dense eigh
SHIFT = -1e-3  # shift-invert target just below the spectrum of the PSD Laplacian
# many small eigenproblems run far slower on multithreaded BLAS (and stall on a loaded machine)
_BLAS = ThreadpoolController()


@dataclass(frozen=True)
class Normalization:
    """Per-axis min-max normalisation of one FOV to [0, 1], with its exact inverse."""

    offset: np.ndarray  # (2,) per-axis minimum, nm
    scale: np.ndarray  # (2,) per-axis extent (max - min), nm; 1.0 for a zero-extent axis

    @classmethod
    def fit(cls, coords_nm: np.ndarray) -> Normalization:
        coords = _validate_coords(coords_nm)
        offset = coords.min(axis=0)
        extent = coords.max(axis=0) - offset
        return cls(offset=offset, scale=np.where(extent > 0, extent, 1.0))

    def forward(self, coords_nm: np.ndarray) -> np.ndarray:
        return (np.asarray(coords_nm, dtype=np.float64) - self.offset) / self.scale

    def inverse(self, coords_norm: np.ndarray) -> np.ndarray:
        return np.asarray(coords_norm, dtype=np.float64) * self.scale + self.offset


def _validate_coords(coords: np.ndarray, min_points: int = 3) -> np.ndarray:
    coords = np.asarray(coords, dtype=np.float64)
    if coords.ndim != 2 or coords.shape[1] != 2:
        raise ValueError(f"coordinates must have shape (N, 2), got {coords.shape}")
    bad = ~np.isfinite(coords).all(axis=1)
    if bad.any():
        raise ValueError(
            f"coordinates contain NaN or inf in {bad.sum()} of {len(coords)} rows "
            f"(first at row {np.flatnonzero(bad)[0]})"
        )
    if len(coords) < min_points:
        raise ValueError(f"a graph needs at least {min_points} points, got {len(coords)}")
    return coords


def delaunay_edges(positions: np.ndarray) -> np.ndarray:
    """Undirected Delaunay edges (M, 2), i < j, unique, including zero-length duplicate links."""
    unique, first, inverse = np.unique(positions, axis=0, return_index=True, return_inverse=True)
    inverse = inverse.ravel()
    try:
        simplices = Delaunay(unique).simplices
        pairs = simplices[:, [0, 1, 1, 2, 0, 2]].reshape(-1, 2)
    except QhullError:  # all collinear (or < 3 distinct points): chain them along the line
        centred = unique - unique.mean(axis=0)
        direction = np.linalg.svd(centred, full_matrices=False)[2][0]
        order = np.argsort(centred @ direction, kind="stable")
        pairs = np.stack([order[:-1], order[1:]], axis=1)
    links = [first[pairs]]  # a distinct point is represented by its first occurrence

    # duplicates: all copies of a point linked to each other by zero-length edges
    copies = np.argsort(inverse, kind="stable")  # points grouped by distinct position
    sizes = np.bincount(inverse)
    starts = np.cumsum(sizes) - sizes
    for s in np.unique(sizes[sizes > 1]):  # one pass per group size
        members = copies[starts[sizes == s][:, None] + np.arange(s)]  # (groups, s)
        i, j = np.triu_indices(s, 1)
        links.append(np.stack([members[:, i].ravel(), members[:, j].ravel()], axis=1))
    edges = np.sort(np.concatenate(links), axis=1)
    return np.unique(edges, axis=0)


def laplacian_eigenvectors(adjacency: csr_matrix, k: int = NUM_EIGENVECTORS) -> np.ndarray:
    """|k eigenvectors| of ``I - D^-1/2 A D^-1/2`` with the smallest non-trivial eigenvalues.

    Computed per connected component, so the result is deterministic even when several
    components make the null space degenerate: each component contributes its own k + 1
    smallest eigenpairs (its trivial one set exactly to ``sqrt(deg)/||sqrt(deg)||`` with
    eigenvalue 0), and all candidates are ordered by (eigenvalue, component size descending,
    first node, index within the component); the first (the largest component's trivial
    vector) is dropped. Components of >= 100 nodes use sparse shift-invert ``eigsh`` with a
    fixed start vector, smaller ones dense ``eigh``, batched over components of equal size,
    all on a single BLAS thread. Returns (N, k) float32, zero-padded when the graph has fewer
    than k + 1 nodes.
    """
    with _BLAS.limit(limits=1, user_api="blas"):
        return _laplacian_eigenvectors(adjacency, k)


def _laplacian_eigenvectors(adjacency: csr_matrix, k: int) -> np.ndarray:
    n = adjacency.shape[0]
    degree = np.asarray(adjacency.sum(axis=1)).ravel()
    d_inv_sqrt = np.zeros(n)
    d_inv_sqrt[degree > 0] = degree[degree > 0] ** -0.5
    laplacian = (identity(n) - diags(d_inv_sqrt) @ adjacency @ diags(d_inv_sqrt)).tocsr()
    count, component = connected_components(adjacency, directed=False)
    nodes = np.argsort(component, kind="stable")  # nodes grouped by component, ascending
    sizes = np.bincount(component, minlength=count)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])

    # solved[c] = (members, eigenvalues, eigenvectors as columns), ascending eigenvalues
    solved: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    for c in np.flatnonzero(sizes >= SPARSE_MIN_NODES):
        members = nodes[starts[c] : starts[c] + sizes[c]]
        sub = laplacian[members][:, members].tocsc()
        v0 = np.random.default_rng(0).random(len(members))
        w, v = eigsh(sub, k=k + 1, sigma=SHIFT, which="LM", v0=v0)
        solved[c] = (members, w, v)
    for s in np.unique(sizes[sizes < SPARSE_MIN_NODES]):
        comps = np.flatnonzero(sizes == s)
        members = nodes[starts[comps][:, None] + np.arange(s)]  # (m, s)
        sub = laplacian[members.ravel()][:, members.ravel()].tocoo()
        same = sub.row // s == sub.col // s  # keep the diagonal blocks only
        blocks = np.zeros((len(comps), s, s))
        blocks[sub.row[same] // s, sub.row[same] % s, sub.col[same] % s] = sub.data[same]
        w, v = np.linalg.eigh(blocks)
        keep = min(s, k + 1)
        pairs = zip(members, w[:, :keep], v[:, :, :keep], strict=True)
        solved.update(zip(comps.tolist(), pairs, strict=True))

    comp = np.concatenate([np.full(len(solved[c][1]), c) for c in range(count)])
    local = np.concatenate([np.arange(len(solved[c][1])) for c in range(count)])
    values = np.concatenate([np.sort(solved[c][1]) for c in range(count)])
    trivial = (local == 0) & (sizes[comp] > 1)  # isolated nodes have eigenvalue 1, no null space
    values[trivial] = 0.0
    order = np.lexsort((local, comp, -sizes[comp], values))[1 : k + 1]

    features = np.zeros((n, k), dtype=np.float32)
    for column, i in enumerate(order):
        members, w, v = solved[comp[i]]
        if trivial[i]:
            vector = np.sqrt(degree[members]) / np.sqrt(degree[members].sum())
        else:
            vector = v[:, np.argsort(w)[local[i]]]
        features[members, column] = np.abs(vector)
    return features


def targets(positions: np.ndarray, labels: np.ndarray, radius: float) -> np.ndarray:
    """Displacement targets: (position - centroid of its cluster) / r; 0 for label 0
    (``docs/reference.md#training``)."""
    positions = np.asarray(positions, dtype=np.float64)
    labels = np.asarray(labels)
    if labels.shape != (len(positions),):
        raise ValueError(f"labels must have shape ({len(positions)},), got {labels.shape}")
    inverse = np.unique(labels, return_inverse=True)[1]
    counts = np.bincount(inverse)
    centroids = np.stack(
        [np.bincount(inverse, weights=positions[:, a]) / counts for a in range(2)], axis=1
    )
    displacement = (positions - centroids[inverse]) / radius
    displacement[labels == 0] = 0.0
    return displacement.astype(np.float32)


def build_graph(
    positions: np.ndarray,
    radius: float,
    *,
    labels: np.ndarray | None = None,
    classes: np.ndarray | None = None,
    early_labels: np.ndarray | None = None,
) -> Data:
    """Graph of already-normalised positions (``docs/reference.md#graph``); see the module
    docstring.

    Optional: ``labels`` (cluster ids, 0 = background) add ``y`` and ``labels``;
    ``early_labels`` add the multiscale targets ``y_early`` for the early steps;
    ``classes`` add per-node class ids.
    """
    positions = _validate_coords(positions)
    if not radius > 0:
        raise ValueError(f"connectivity radius must be positive, got {radius}")
    n = len(positions)
    pairs = delaunay_edges(positions)
    pairs = pairs[np.linalg.norm(positions[pairs[:, 0]] - positions[pairs[:, 1]], axis=1) < radius]
    both = np.concatenate([pairs, pairs[:, ::-1]])
    both = both[np.lexsort((both[:, 1], both[:, 0]))]  # sorted by (sender, receiver)
    sender, receiver = both[:, 0], both[:, 1]
    delta = positions[sender] - positions[receiver]
    edge_attr = np.column_stack([delta, np.linalg.norm(delta, axis=1)]) / radius
    adjacency = coo_matrix((np.ones(len(sender)), (sender, receiver)), shape=(n, n)).tocsr()

    data = Data(
        x=torch.from_numpy(laplacian_eigenvectors(adjacency)),
        edge_index=torch.from_numpy(both.T.astype(np.int64)).contiguous(),
        edge_attr=torch.from_numpy(edge_attr.astype(np.float32)),
        pos=torch.from_numpy(positions.astype(np.float32)),
        radius=float(radius),
    )
    if labels is not None:
        data.y = torch.from_numpy(targets(positions, labels, radius))
        data.labels = torch.as_tensor(np.asarray(labels), dtype=torch.int64)
    if early_labels is not None:
        data.y_early = torch.from_numpy(targets(positions, early_labels, radius))
    if classes is not None:
        classes = np.asarray(classes)
        if classes.shape != (n,):
            raise ValueError(f"classes must have shape ({n},), got {classes.shape}")
        data.classes = torch.as_tensor(classes, dtype=torch.int64)
    return data


def fov_graph(coords_nm: np.ndarray, radius: float, **kw) -> tuple[Data, Normalization]:
    """Validate, min-max normalise (`Normalization.fit`) and build the graph of one FOV."""
    norm = Normalization.fit(coords_nm)
    return build_graph(norm.forward(coords_nm), radius, **kw), norm
