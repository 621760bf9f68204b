"""Multiscale clustering of NPC-like structures (paper Figs. 1 and 5a-b; Methods, "MIRO loss
function": steps [0, k*) learn the fine spots, steps [k*, K) the coarse rings).

One trained MIRO serves both scales: the displacement of step k* - 1 squeezes every spot
(ground truth ``index``), that of the last step every ring (ground truth ``index_coarse``). Each
level is a run of the dataset (`miro.studies.runs`) and goes through the one evaluation
pipeline: DBSCAN with its own parameters, on the squeezed (MIRO + DBSCAN) and on the raw (DBSCAN)
localizations, scored against its own ground truth. A level is reported
as the dataset ``"<ds> <level>"`` so that the long metrics table works with
:func:`miro.evaluation.stats.paired_tests` and :func:`miro.outputs.figures.metric_boxes` as it is.
"""

from __future__ import annotations

import pandas as pd

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


def level_table(long_df: pd.DataFrame, dataset: str, level: str) -> pd.DataFrame:
    """One level's per-FOV metrics (the long table of its run, `miro.studies.runs`) as the
    multiscale tables show it: dataset :func:`level_dataset`, and a ``level`` column."""
    table = long_df.assign(dataset=level_dataset(dataset, level))
    table.insert(1, "level", level)
    return table
