"""Tests for miro.data.labels: consecutive renumbering and the class of a cluster by mode."""

from __future__ import annotations

import numpy as np
import pytest

from miro.data.labels import cluster_classes, consecutive_labels


def test_sorted_renumbering_keeps_label_order_and_zero():
    labels = np.array([7, 0, 3, 7, 12, 0, 3])
    out = consecutive_labels(labels, order="sorted")
    assert out.tolist() == [2, 0, 1, 2, 3, 0, 1] and out.dtype == np.int64


def test_appearance_renumbering_follows_the_first_localization():
    labels = np.array([7, 0, 3, 7, 12, 0, 3])
    assert consecutive_labels(labels, order="appearance").tolist() == [1, 0, 2, 1, 3, 0, 2]


def test_renumbering_of_random_labels():
    labels = np.random.default_rng(0).integers(0, 40, 500)
    positive = labels > 0
    ranked = np.unique(labels[positive], return_inverse=True)[1] + 1
    assert np.array_equal(consecutive_labels(labels, order="sorted")[positive], ranked)
    seen = consecutive_labels(labels, order="appearance")[positive]
    # a new cluster gets the next number; the same cluster keeps its number
    assert np.all(np.diff(np.r_[0, np.maximum.accumulate(seen)]) <= 1)
    assert len(set(zip(seen.tolist(), ranked.tolist(), strict=True))) == ranked.max()


def test_renumbering_of_empty_labels_and_bad_order():
    assert consecutive_labels(np.zeros(0, int), order="sorted").size == 0
    with pytest.raises(ValueError, match="order must be one of"):
        consecutive_labels(np.array([1, 2]), order="random")


def test_cluster_class_is_the_mode_of_its_localizations():
    labels = np.array([0, 1, 1, 1, 2, 2, 3, 3, 0, 5, 5, 5])
    classes = np.array([2, 1, 2, 2, 1, 2, 3, 3, 1, 1, 0, 1])
    # cluster 1: mode 2; cluster 2: tie 1/2 -> 1; cluster 3: 3; cluster 5: 1; noise: 0
    out = cluster_classes(labels, classes)
    assert out.tolist() == [0, 2, 2, 2, 1, 1, 3, 3, 0, 1, 1, 1] and out.dtype == np.int64
    assert cluster_classes(np.zeros(3, int), np.ones(3, int)).tolist() == [0, 0, 0]
    assert cluster_classes(np.zeros(0, int), np.zeros(0, int)).size == 0


def test_cluster_classes_rejects_bad_inputs():
    labels = np.array([0, 1, 1])
    with pytest.raises(ValueError, match="equal"):
        cluster_classes(labels, np.array([1, 1]))
    with pytest.raises(ValueError, match="non-negative"):
        cluster_classes(np.array([-1, 1, 1]), np.array([1, 1, 1]))
