"""DBSCAN wrapper: label convention and input checks."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.cluster import DBSCAN

from miro.evaluation.dbscan import dbscan_labels


def _blobs() -> np.ndarray:
    rng = np.random.default_rng(0)
    return np.vstack(
        [rng.normal(200, 5, (30, 2)), rng.normal(800, 5, (40, 2)), [[0, 1000], [1000, 0]]]
    )


def test_labels_are_dbscan_plus_one():
    coords = _blobs()
    labels = dbscan_labels(coords, eps=20, min_samples=5)
    assert (labels == DBSCAN(eps=20, min_samples=5).fit_predict(coords) + 1).all()
    assert labels[-2:].tolist() == [0, 0]  # isolated points are noise
    assert len(set(labels[:30])) == 1 and len(set(labels[30:70])) == 1
    assert labels[0] != labels[30] and labels.min() == 0
    assert (dbscan_labels(coords, 20, 5, n_jobs=2) == labels).all()


def test_bad_parameters():
    coords = _blobs()
    with pytest.raises(ValueError, match="eps"):
        dbscan_labels(coords, eps=0, min_samples=5)
    with pytest.raises(ValueError, match="min_samples"):
        dbscan_labels(coords, eps=10, min_samples=2.5)
    with pytest.raises(ValueError, match=r"\(n, 2\)"):
        dbscan_labels(coords[:, 0], eps=10, min_samples=5)
    assert dbscan_labels(np.empty((0, 2)), 10, 5).shape == (0,)
