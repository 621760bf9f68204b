"""Tests for miro.studies.multiscale: level steps, one squeeze per level, per-level evaluation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from miro.core.model import MIRO
from miro.core.squeeze import squeeze_many
from miro.data.simulate import simulate_fov
from miro.evaluation.metrics import METRICS
from miro.studies.multiscale import (
    LEVELS,
    evaluate_level,
    level_dataset,
    level_steps,
    squeeze_levels,
    truth,
)


@pytest.fixture(scope="module")
def fovs() -> dict[int, pd.DataFrame]:
    return {i: simulate_fov("multiscale_rings", i, n_rings=(6, 8)) for i in (1, 2, 3)}


def collapsed(frame: pd.DataFrame, column: str) -> np.ndarray:
    """Ideal squeezing: every clustered localization moved onto its cluster's centroid."""
    xy = frame[["x", "y"]].to_numpy().copy()
    labels = frame[column].to_numpy()
    for k in np.unique(labels[labels > 0]):
        xy[labels == k] = xy[labels == k].mean(axis=0)
    return xy


def test_level_steps_and_names():
    assert level_steps(3, 5) == {"spots": 2, "rings": 4}
    for k_star in (0, 5):
        with pytest.raises(ValueError, match="k_star"):
            level_steps(k_star, 5)
    assert level_dataset("NPC", "rings") == "NPC rings"
    with pytest.raises(ValueError, match="unknown level"):
        level_dataset("NPC", "corners")


def test_truth_names_the_missing_column(fovs):
    assert np.array_equal(truth(fovs[1], "rings"), fovs[1]["index_coarse"].to_numpy())
    with pytest.raises(ValueError, match="index_coarse"):
        truth(fovs[1].drop(columns="index_coarse"), "rings", "FOV 1")


def test_squeeze_levels_uses_the_spot_and_last_steps(fovs):
    torch.manual_seed(0)
    model = MIRO(width=8, steps=4)
    coords = [f[["x", "y"]].to_numpy() for f in fovs.values()]
    levels = squeeze_levels(model, coords, 0.08, 2, device="cpu")
    assert set(levels) == set(LEVELS)
    for level, step in (("spots", 1), ("rings", 3)):
        direct = squeeze_many(model, coords, 0.08, step=step, device="cpu")
        for got, want in zip(levels[level], direct, strict=True):
            np.testing.assert_allclose(got, want.squeezed_nm)
    assert not np.allclose(levels["spots"][0], levels["rings"][0])


@pytest.mark.parametrize("level", list(LEVELS))
def test_ideal_squeezing_is_scored_perfect_at_its_level(fovs, level):
    column = LEVELS[level]
    squeezed = {f: collapsed(frame, column) for f, frame in fovs.items()}
    params = {"DBSCAN": {"eps": 12.0, "min_samples": 4}, "MIRO": {"eps": 0.5, "min_samples": 2}}
    table, labels = evaluate_level("NPC", level, fovs, squeezed, params)
    assert set(table["dataset"]) == {f"NPC {level}"} and set(table["level"]) == {level}
    assert set(table["metric"]) == set(METRICS) and set(table["fov"]) == set(fovs)
    miro = table[(table["method"] == "MIRO") & (table["metric"] == "JI_c")]["value"]
    dbscan = table[(table["method"] == "DBSCAN") & (table["metric"] == "JI_c")]["value"]
    assert (miro == 1).all() and miro.mean() > dbscan.mean()
    for f, frame in fovs.items():
        assert labels[f].shape == (len(frame), 2)
        clustered = frame[column].to_numpy() > 0
        assert (labels[f][clustered, 1] > 0).all()  # every collapsed cluster is found
