"""Tests for miro.studies.adjacent: seeded test pairs, the JI_c scan over distance and its
summary."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from miro.core.model import MIRO
from miro.data.simulate import simulate_dataset
from miro.studies.adjacent import SCAN_COLUMNS, jaccard_scan, simulate_pairs, summarise

DBSCAN = {"eps": 20.0, "min_samples": 8}


@pytest.fixture(scope="module")
def identity_model() -> MIRO:
    """A MIRO whose displacement head is zero: MIRO + DBSCAN must then equal DBSCAN."""
    torch.manual_seed(0)
    model = MIRO(width=4, steps=2)
    torch.nn.init.zeros_(model.head.weight)
    torch.nn.init.zeros_(model.head.bias)
    return model


def test_test_pairs_are_seeded_and_distinct_from_training_fovs():
    a = simulate_pairs({"n_pairs": 3, "distance": 9.0}, 2.0, 2, seed=5)
    b = simulate_pairs({"n_pairs": 3}, 2.0, 2, seed=5)
    for x, y in zip(a, b, strict=True):
        pd.testing.assert_frame_equal(x, y)  # the dataset's own distance is replaced
    training = simulate_dataset("adjacent_pairs", 2, 5, n_pairs=3, distance=2.0)
    assert not any(x.equals(t) for x in a for t in training)
    assert not a[0].equals(simulate_pairs({"n_pairs": 3}, 2.0, 1, seed=6)[0])
    with pytest.raises(ValueError, match="n_fovs"):
        simulate_pairs({}, 2.0, 0, seed=0)


def test_scan_resolves_far_pairs_better_than_touching_ones(identity_model):
    distances = [0.5, 8.0]
    scan = jaccard_scan(
        identity_model,
        0.2,
        {"n_pairs": 4},
        distances,
        4,
        0,
        {"DBSCAN": DBSCAN, "MIRO": DBSCAN},
        device="cpu",
    )
    assert list(scan.columns) == list(SCAN_COLUMNS) and len(scan) == 2 * 4 * 2
    assert scan["JI_c"].between(0, 1).all()
    wide = scan.pivot_table(index=["distance", "fov"], columns="method", values="JI_c")
    np.testing.assert_array_equal(wide["MIRO"], wide["DBSCAN"])  # zero displacement
    means = scan.groupby("distance")["JI_c"].mean()
    assert means[8.0] > means[0.5]


def test_summary_tests_miro_against_dbscan_per_distance():
    rng = np.random.default_rng(0)
    rows = []
    for distance in (1.0, 3.0):
        for fov in range(1, 9):
            base = rng.uniform(0.2, 0.6)
            rows += [(distance, fov, "DBSCAN", base), (distance, fov, "MIRO", base + 0.2)]
    summary = summarise(pd.DataFrame(rows, columns=SCAN_COLUMNS))
    assert summary["distance"].tolist() == [1.0, 3.0]
    assert np.allclose(summary["MIRO_mean"] - summary["DBSCAN_mean"], 0.2)
    assert (summary["p"] < 0.01).all() and (summary["n"] == 8).all()
    with pytest.raises(ValueError, match="DBSCAN"):
        summarise(pd.DataFrame(rows[1::2], columns=SCAN_COLUMNS))
