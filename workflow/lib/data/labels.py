"""Cluster-label helpers shared by the simulators, the augmentation and the classification studies.

Labels follow the benchmark's convention (paper Methods, "Simulated data"; ``docs/reference.md``,
"Labels"): one integer per localization, 0 = non-clustered, k > 0 = cluster k.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

ORDERS = ("sorted", "appearance")


def consecutive_labels(labels: np.ndarray, *, order: Literal["sorted", "appearance"]) -> np.ndarray:
    """Positive labels renumbered 1..K (int64); 0 (and below) becomes 0.

    ``order="sorted"`` numbers the clusters by increasing label, ``order="appearance"`` by their
    first localization in ``labels``.
    """
    if order not in ORDERS:
        raise ValueError(f"order must be one of {ORDERS}, got {order!r}")
    labels = np.asarray(labels)
    out = np.zeros(len(labels), np.int64)
    positive = labels > 0
    _, first, inverse = np.unique(labels[positive], return_index=True, return_inverse=True)
    if order == "appearance":
        rank = np.empty(first.size, dtype=np.int64)
        rank[np.argsort(first)] = np.arange(first.size)
        inverse = rank[inverse]
    out[positive] = inverse + 1
    return out


def cluster_classes(labels: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """Class of each localization's cluster: the mode of ``classes`` over the localizations of
    its cluster in ``labels`` (ties: the smallest class); 0 for label 0 (non-clustered).

    Paper Results, "Simultaneous clustering and classification of different shapes": a cluster's
    type is the mode of the node-level class predictions within it.
    """
    labels, classes = np.asarray(labels), np.asarray(classes)
    if labels.shape != classes.shape or labels.ndim != 1:
        raise ValueError(f"labels {labels.shape} and classes {classes.shape} must be equal 1-D")
    if labels.size and (labels.min() < 0 or classes.min() < 0):
        raise ValueError("labels and classes must be non-negative")
    out = np.zeros(labels.shape, dtype=np.int64)
    clustered = labels != 0
    if not clustered.any():
        return out
    ids, cluster = np.unique(labels[clustered], return_inverse=True)
    counts = np.zeros((ids.size, int(classes.max()) + 1), dtype=np.int64)
    np.add.at(counts, (cluster, classes[clustered]), 1)
    out[clustered] = np.argmax(counts, axis=1)[cluster]
    return out
