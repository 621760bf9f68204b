"""Multiscale clustering of NPC-like structures (paper Figs. 1 and 5a-b; Methods, "MIRO loss
function": steps [0, k*) learn the fine spots, steps [k*, K) the coarse rings).

One MIRO forward pass serves both scales: the displacement of step k* - 1 squeezes every spot
(ground truth ``index``), that of the last step every ring (ground truth ``index_coarse``). Each
level is then clustered by DBSCAN with its own parameters, on the squeezed (MIRO + DBSCAN) and
on the raw (DBSCAN) localizations, and scored against its own ground truth. A level is reported
as the dataset ``"<ds> <level>"`` so that the long metrics table works with
:func:`miro.evaluation.stats.paired_tests` and :func:`miro.outputs.figures.metric_boxes` as it is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from miro.core.model import MIRO
from miro.core.squeeze import squeeze_many
from miro.evaluation.dbscan import dbscan_labels
from miro.evaluation.metrics import FovRecord, evaluate_fovs

#: Level -> ground-truth column of the FOVs (the simulators' multiscale labels).
LEVELS: dict[str, str] = {"spots": "index", "rings": "index_coarse"}


def level_steps(k_star: int, steps: int) -> dict[str, int]:
    """Recurrent step whose displacement gives each level: k* - 1 for spots, K - 1 for rings."""
    if not 1 <= k_star < steps:
        raise ValueError(f"k_star {k_star} must lie in [1, {steps - 1}] for {steps} steps")
    return {"spots": k_star - 1, "rings": steps - 1}


def level_dataset(dataset: str, level: str) -> str:
    """Name of one level of ``dataset`` in the metrics and statistics tables."""
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r}; choose from {list(LEVELS)}")
    return f"{dataset} {level}"


def truth(frame: pd.DataFrame, level: str, name: str = "FOV") -> np.ndarray:
    """Ground-truth labels of ``level`` in one FOV; a clear error when the column is missing."""
    column = LEVELS[level]
    if column not in frame.columns:
        raise ValueError(
            f"{name}: no column {column!r} for the {level} level; multiscale FOVs need "
            f"{sorted(LEVELS.values())}"
        )
    return frame[column].to_numpy()


def squeeze_levels(
    model: MIRO,
    coords: Sequence[np.ndarray],
    radius: float,
    k_star: int,
    *,
    device: str = "auto",
) -> dict[str, list[np.ndarray]]:
    """Squeezed coordinates (nm) of every FOV at each level's step (:func:`level_steps`)."""
    return {
        level: [
            r.squeezed_nm
            for r in squeeze_many(model, list(coords), radius, step=step, device=device)
        ]
        for level, step in level_steps(k_star, model.steps).items()
    }


def evaluate_level(
    dataset: str,
    level: str,
    fovs: Mapping[int, pd.DataFrame],
    squeezed: Mapping[int, np.ndarray],
    params: Mapping[str, Mapping],
) -> tuple[pd.DataFrame, dict[int, np.ndarray]]:
    """DBSCAN (raw localizations) and MIRO + DBSCAN (``squeezed``) at one level of every FOV.

    ``params``: method ("DBSCAN", "MIRO") -> {"eps", "min_samples"} tuned for this level.
    Returns the long metrics table of :func:`miro.evaluation.metrics.evaluate_fovs` (dataset
    :func:`level_dataset`, plus a ``level`` column) and, per FOV, the labels (n, 2) of DBSCAN and
    MIRO in that column order.
    """
    name = level_dataset(dataset, level)
    records, labels = [], {}
    for fov, frame in fovs.items():
        raw = frame[["x", "y"]].to_numpy()
        source = {"DBSCAN": raw, "MIRO": squeezed[fov]}
        predictions = {
            method: dbscan_labels(
                source[method], params[method]["eps"], params[method]["min_samples"]
            )
            for method in ("DBSCAN", "MIRO")
        }
        labels[fov] = np.column_stack([predictions["DBSCAN"], predictions["MIRO"]])
        records.append(FovRecord(name, fov, raw, truth(frame, level, f"FOV {fov}"), predictions))
    table = evaluate_fovs(records)
    table.insert(1, "level", level)
    return table, labels
