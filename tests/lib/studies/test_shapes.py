"""Tests for miro.studies.shapes: localization classes, paired confusion matrix and F1 (Fig. 3)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import confusion_matrix, f1_score

from miro.data.simulate import SHAPES, simulate_fov
from miro.studies.shapes import (
    PAIR_COLUMNS,
    check_class_head,
    classify_fovs,
    confusion_table,
    localization_classes,
    macro_f1,
    paired_classes,
    shape_names,
)

NAMES = ["spot", "ellipse"]


@pytest.fixture(scope="module")
def fov() -> pd.DataFrame:
    return simulate_fov("multishape", 4, n_clusters=(4, 6), fov_size=3200)


def one_hot(classes: np.ndarray, n: int) -> np.ndarray:
    """Class probabilities (N, n + 1) that pick ``classes``, background column the largest."""
    probs = np.full((len(classes), n + 1), 0.1 / n)
    probs[:, 0] = 0.8
    probs[np.arange(len(classes)), classes] = 0.1 + 0.05
    return probs / probs.sum(axis=1, keepdims=True)


def test_shape_names_from_params_and_defaults():
    assert shape_names({}) == ["spot", "ellipse"]
    assert shape_names({"shapes": ["c_shape", {"kind": "ring", "sd": 9, "locs": 5}]}) == [
        "c_shape",
        "ring",
    ]
    assert shape_names({"shapes": [SHAPES["ring"]]}) == ["ring"]
    with pytest.raises(ValueError, match="kind"):
        shape_names({"shapes": [{"sd": 3}]})


def test_localization_classes_ignore_the_background_output():
    classes = np.array([1, 2, 2, 1])
    assert localization_classes(one_hot(classes, 2)).tolist() == classes.tolist()
    with pytest.raises(ValueError, match="C >= 1"):
        localization_classes(np.ones((3, 1)))


def test_perfect_prediction_gives_a_diagonal_matrix(fov):
    coords, truth, true_classes = (
        fov[["x", "y"]].to_numpy(),
        fov["index"].to_numpy(),
        fov["class"].to_numpy(),
    )
    renamed = np.where(truth > 0, truth + 100, 0)  # other cluster ids, same partition
    pairs = paired_classes(coords, truth, true_classes, renamed, true_classes)
    n_clusters = len(np.unique(truth[truth > 0]))
    assert len(pairs) == n_clusters
    assert (pairs["pred_cluster"] == pairs["truth_cluster"] + 100).all()
    table = confusion_table(pairs, NAMES)
    assert np.array_equal(np.diag(table[NAMES].to_numpy()), table["n"].to_numpy())
    assert table["n"].sum() == n_clusters
    assert (table["F1"] == 1).all() and macro_f1(table) == 1


def test_swapped_classes_land_off_the_diagonal(fov):
    coords, truth, true_classes = (
        fov[["x", "y"]].to_numpy(),
        fov["index"].to_numpy(),
        fov["class"].to_numpy(),
    )
    swapped = np.where(true_classes > 0, 3 - true_classes, 0)
    table = confusion_table(paired_classes(coords, truth, true_classes, truth, swapped), NAMES)
    assert np.trace(table[NAMES].to_numpy()) == 0
    assert (table["F1"] == 0).all()


def test_f1_matches_scikit_learn():
    rng = np.random.default_rng(1)
    true, pred = rng.integers(1, 4, 60), rng.integers(1, 4, 60)
    table = confusion_table(pd.DataFrame({"true_class": true, "pred_class": pred}), list("abc"))
    assert np.array_equal(table[list(list("abc"))].to_numpy(), confusion_matrix(true, pred))
    assert np.allclose(table["F1"], f1_score(true, pred, average=None))
    with pytest.raises(ValueError, match=r"outside 1\.\.3"):
        confusion_table(pd.DataFrame({"true_class": [1], "pred_class": [4]}), list("abc"))


def test_classify_fovs_uses_the_mode_and_needs_a_class_column(fov):
    truth, true_classes = fov["index"].to_numpy(), fov["class"].to_numpy()
    noisy = true_classes.copy()
    clustered = np.flatnonzero(truth > 0)
    flip = clustered[::7]  # a minority of each cluster voted wrong: the mode still wins
    noisy[flip] = 3 - noisy[flip]
    noisy[truth == 0] = 1
    classes, pairs = classify_fovs({5: fov}, {5: truth}, {5: one_hot(noisy, 2)})
    assert np.array_equal(classes[5], true_classes)
    assert list(pairs.columns) == list(PAIR_COLUMNS) and (pairs["fov"] == 5).all()
    assert (pairs["true_class"] == pairs["pred_class"]).all()
    with pytest.raises(ValueError, match="'class' column"):
        classify_fovs({1: fov.drop(columns="class")}, {1: truth}, {1: one_hot(noisy, 2)})


def test_class_head_must_predict_the_datasets_shapes():
    check_class_head("model.pt", 3, None, NAMES)  # a trained head: outputs only
    check_class_head("published.pt", 3, ["non-clustered", "spot", "ellipse"], NAMES)
    with pytest.raises(ValueError, match=r"model\.pt: class head with 0 outputs, expected 3"):
        check_class_head("model.pt", 0, None, NAMES)
    with pytest.raises(ValueError, match=r"published\.pt: the class head predicts \['ellipse'"):
        check_class_head("published.pt", 3, ["non-clustered", "ellipse", "spot"], NAMES)
