"""Simultaneous clustering and classification of different shapes (paper Results, Fig. 3).

MIRO's class head predicts a shape class for every localization; DBSCAN on the squeezed
localizations gives the clusters; the class of a predicted cluster is the mode of its
localizations' predicted classes ("taking the mode of node-level class predictions within each
cluster"). Classification is scored on the true-positive cluster pairs of
:func:`miro.evaluation.metrics.pair_clusters`: a confusion matrix (rows: the true shape of
the ground-truth cluster, columns: the predicted shape of its paired cluster) and per-class F1.

Class ids follow the simulator's ``class`` column: 1..C in the order of the dataset's
``shapes``, 0 = non-clustered. A localization inside a predicted cluster is clustered, so its
predicted shape is the most probable of the shape classes 1..C (the background output 0 is left
out of the arg max).
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from miro.data.labels import cluster_classes
from miro.data.simulate import Shape, simulate_shapes
from miro.evaluation.metrics import Clusters, pair_clusters

PAIR_COLUMNS = ("fov", "truth_cluster", "pred_cluster", "true_class", "pred_class")


def shape_names(params: Mapping) -> list[str]:
    """Names of classes 1..C of a ``multishape`` dataset from its simulation ``params``
    (the simulator's default shapes when ``params`` gives none)."""
    shapes = params.get("shapes", inspect.signature(simulate_shapes).parameters["shapes"].default)
    names = []
    for spec in shapes:
        if isinstance(spec, str):
            names.append(spec)
        elif isinstance(spec, Shape):
            names.append(spec.kind)
        elif isinstance(spec, Mapping) and "kind" in spec:
            names.append(str(spec["kind"]))
        else:
            raise ValueError(f"shape {spec!r}: expected a shape name or a mapping with a 'kind'")
    return names


def check_class_head(
    source: str, num_classes: int, class_names: Sequence[str] | None, names: Sequence[str]
) -> None:
    """Raise ValueError naming ``source`` (the checkpoint) unless its class head predicts the
    dataset's shape classes ``names``: ``num_classes`` = len(names) + 1 outputs and, when the
    checkpoint names them (``class_names``, class 0 first: imported published models), classes
    1..C named as ``names``, in order."""
    if num_classes != len(names) + 1:
        raise ValueError(
            f"{source}: class head with {num_classes} outputs, expected {len(names) + 1} "
            f"(non-clustered + {list(names)}); train with model.num_classes null"
        )
    if class_names is not None and list(class_names[1:]) != list(names):
        raise ValueError(
            f"{source}: the class head predicts {list(class_names[1:])} as classes 1..C, the "
            f"dataset's shapes are {list(names)}"
        )


def localization_classes(class_probs: np.ndarray) -> np.ndarray:
    """Predicted shape class (1..C) of every localization from class probabilities (N, C + 1)
    whose column 0 is the non-clustered class."""
    probs = np.asarray(class_probs, dtype=float)
    if probs.ndim != 2 or probs.shape[1] < 2:
        raise ValueError(
            f"class probabilities must be (N, C + 1) with C >= 1 shape classes, got {probs.shape}"
        )
    return np.argmax(probs[:, 1:], axis=1) + 1


def paired_classes(
    coords: np.ndarray,
    truth: np.ndarray,
    true_classes: np.ndarray,
    pred: np.ndarray,
    pred_classes: np.ndarray,
) -> pd.DataFrame:
    """True and predicted class of every true-positive cluster pair of one FOV.

    ``truth`` / ``pred``: ground-truth and predicted cluster labels; ``true_classes`` /
    ``pred_classes``: per-localization classes (a cluster's class is its mode, as in
    :func:`cluster_classes`). Columns truth_cluster, pred_cluster, true_class, pred_class.
    """
    gt, found = Clusters.from_labels(coords, truth), Clusters.from_labels(coords, pred)
    pairing = pair_clusters(gt, found)
    true_of = _class_by_label(truth, cluster_classes(truth, true_classes))
    pred_of = _class_by_label(pred, cluster_classes(pred, pred_classes))
    truth_ids, pred_ids = gt.labels[pairing.truth], found.labels[pairing.pred]
    return pd.DataFrame(
        {
            "truth_cluster": truth_ids,
            "pred_cluster": pred_ids,
            "true_class": [true_of[k] for k in truth_ids],
            "pred_class": [pred_of[k] for k in pred_ids],
        }
    )


def _class_by_label(labels: np.ndarray, classes: np.ndarray) -> dict[int, int]:
    return dict(zip(np.asarray(labels).tolist(), np.asarray(classes).tolist(), strict=True))


def confusion_table(pairs: pd.DataFrame, names: Sequence[str]) -> pd.DataFrame:
    """Confusion matrix of the paired clusters with per-class F1 and support.

    Rows: true class, columns: predicted class (both named by ``names``, class c = names[c-1]);
    then ``F1`` = 2 TP / (2 TP + FP + FN) of the row's class (NaN when the class occurs on
    neither side) and ``n`` = paired clusters of that true class. Classes outside 1..C raise.
    """
    names = list(names)
    c = len(names)
    true, pred = pairs["true_class"].to_numpy(int), pairs["pred_class"].to_numpy(int)
    bad = sorted(set(np.r_[true, pred].tolist()) - set(range(1, c + 1)))
    if bad:
        raise ValueError(f"classes {bad} outside 1..{c} ({list(names)})")
    matrix = np.zeros((c, c), dtype=np.int64)
    np.add.at(matrix, (true - 1, pred - 1), 1)
    tp = np.diag(matrix)
    denominator = matrix.sum(axis=0) + matrix.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.where(denominator > 0, 2 * tp / denominator, np.nan)
    table = pd.DataFrame(matrix, index=pd.Index(names, name="true_class"), columns=names)
    table["F1"] = f1
    table["n"] = matrix.sum(axis=1)
    return table


def macro_f1(table: pd.DataFrame) -> float:
    """Mean of the per-class F1 of :func:`confusion_table` over the classes that occur."""
    return float(np.nanmean(table["F1"])) if table["F1"].notna().any() else float("nan")


def classify_fovs(
    fovs: Mapping[int, pd.DataFrame],
    labels: Mapping[int, np.ndarray],
    class_probs: Mapping[int, np.ndarray],
) -> tuple[dict[int, np.ndarray], pd.DataFrame]:
    """Cluster classes and true-positive class pairs of several FOVs.

    ``fovs``: FOV -> frame with ``x, y, index, class``; ``labels``: predicted cluster labels;
    ``class_probs``: MIRO's class probabilities (N, C + 1). Returns FOV -> per-localization class
    of its predicted cluster (:func:`cluster_classes`) and the pairs of every FOV
    (:func:`paired_classes`, columns :data:`PAIR_COLUMNS`).
    """
    classes, pairs = {}, []
    for fov, frame in fovs.items():
        if "class" not in frame.columns:
            raise ValueError(f"FOV {fov}: no 'class' column (the shapes experiment needs one)")
        predicted = localization_classes(class_probs[fov])
        classes[fov] = cluster_classes(labels[fov], predicted)
        coords, truth = frame[["x", "y"]].to_numpy(), frame["index"].to_numpy()
        pair = paired_classes(coords, truth, frame["class"].to_numpy(), labels[fov], predicted)
        pairs.append(pair.assign(fov=fov))
    table = pd.concat(pairs, ignore_index=True) if pairs else pd.DataFrame(columns=PAIR_COLUMNS)
    return classes, table[list(PAIR_COLUMNS)]
