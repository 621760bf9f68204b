"""DBSCAN clustering of localizations, in the label convention of :mod:`miro.evaluation.metrics`."""

from __future__ import annotations

import numpy as np
from sklearn.cluster import DBSCAN


def dbscan_labels(
    coords: np.ndarray, eps: float, min_samples: int, *, n_jobs: int | None = None
) -> np.ndarray:
    """DBSCAN (scikit-learn, k-d tree) labels + 1 for ``coords`` (n, 2): 0 = noise, k >= 1 =
    cluster. ``eps`` is in the units of ``coords`` (nm for the benchmark); ``n_jobs`` is passed
    to the neighbour search (None = 1 core, -1 = all)."""
    coords = np.asarray(coords, dtype=np.float64)
    if coords.ndim != 2 or coords.shape[1] != 2:
        raise ValueError(f"coords must be an (n, 2) array, got shape {coords.shape}")
    if not eps > 0:
        raise ValueError(f"eps must be positive, got {eps}")
    if int(min_samples) != min_samples or min_samples < 1:
        raise ValueError(f"min_samples must be a positive integer, got {min_samples}")
    if not len(coords):
        return np.zeros(0, dtype=np.int64)
    model = DBSCAN(eps=eps, min_samples=int(min_samples), algorithm="kd_tree", n_jobs=n_jobs)
    return model.fit_predict(coords).astype(np.int64) + 1
