"""Optuna search of DBSCAN parameters on tuning FOVs (paper "DBSCAN parameter selection":
one (eps, min_samples) pair per scenario, chosen by a metric-based score).

The paper selects the pair that maximises ARI, but its Table 1 MIRO rows are not ARI maxima: on
the blinking scenarios ARI and ARI† pull min_samples in opposite directions (ARI, dominated by
the background "cluster", rewards discarding cluster edges as noise; ARI† rewards keeping them
and, alone, degenerate partitions), and the authors' parameters sit on the ARI ridge where the
mean of both peaks (benchmarks/tuning.md; the paper's "Metrics for performance evaluation"
discusses both sensitivities). The default objective stays ARI, the paper's criterion: the mean
of ARI and ARI† (``objective: [ARI, ARI_dagger]``) restores MIRO's ARI† lead on Scenarios 5 and 6
with blinking but costs IoU and JI_c on Scenario 8 with blinking.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import pandas as pd

from miro.evaluation.dbscan import dbscan_labels
from miro.evaluation.metrics import HIGHER_IS_BETTER, evaluate_fov
from miro.files import fingerprint

TRIAL_COLUMNS = ["number", "value", "eps", "min_samples", "state"]
#: Default objective: ARI, as the paper states (module docstring).
OBJECTIVE = "ARI"
log = logging.getLogger(__name__)


def optimise_dbscan(
    fovs: Sequence[tuple[np.ndarray, np.ndarray]],
    *,
    eps_range: tuple[float, float],
    min_samples_range: tuple[int, int],
    n_trials: int,
    seed: int,
    storage_path: Path | None = None,
    study_name: str = "dbscan",
    objective: str | Sequence[str] = OBJECTIVE,
    fov_ids: Sequence[int] | None = None,
    progress: bool = False,
) -> tuple[dict[str, float | int], pd.DataFrame]:
    """Tune DBSCAN's eps (nm, uniform in ``eps_range``) and min_samples (integer, inclusive
    ``min_samples_range``) with a TPE sampler seeded by ``seed``.

    The score of a trial is the mean, over ``fovs`` ((coords (n, 2) in nm, ground-truth labels)
    pairs), of the metric named ``objective`` (a :data:`miro.evaluation.metrics.METRICS` name,
    e.g. ARI as in the paper) or of the mean of the metrics it lists (:data:`OBJECTIVE`: ARI and
    ARI†; they must share a direction), maximised or minimised as
    :data:`miro.evaluation.metrics.HIGHER_IS_BETTER` says.

    With ``storage_path`` the study lives in that SQLite file, keyed on its definition
    (`study_definition`: search ranges, objective, seed, ``fov_ids`` (the tuning FOVs' numbers)
    and a fingerprint of the coordinates and labels scored). Calling again with the same file,
    ``study_name`` and definition resumes it and runs only the trials still missing to reach
    ``n_trials`` completed ones; a study of another definition is deleted (logged, naming what
    changed) and a fresh one started (docs/reproducibility.md). Fresh studies with the same seed
    give identical trials; a resumed study continues with a freshly seeded sampler, so its later
    trials are reproducible but may differ from those of an uninterrupted run. Trials whose
    score is NaN count as failed.

    Returns the best parameters ``{"eps", "min_samples"}`` and the completed trials (columns
    number, value, eps, min_samples, state).
    """
    metrics = objective_metrics(objective)
    if not fovs:
        raise ValueError("no tuning FOVs given")
    if not 0 < eps_range[0] < eps_range[1]:
        raise ValueError(f"eps_range must be 0 < low < high, got {eps_range}")
    if not 1 <= min_samples_range[0] <= min_samples_range[1]:
        raise ValueError(f"min_samples_range must be 1 <= low <= high, got {min_samples_range}")
    if n_trials < 1:
        raise ValueError(f"n_trials must be >= 1, got {n_trials}")

    def mean_score(trial: optuna.Trial) -> float:
        eps = trial.suggest_float("eps", *eps_range)
        min_samples = trial.suggest_int("min_samples", *min_samples_range)
        scores = [
            evaluate_fov(coords, truth, {"m": dbscan_labels(coords, eps, min_samples)}, metrics)
            .loc[0, metrics]
            .to_numpy(float)
            .mean()
            for coords, truth in fovs
        ]
        return float(np.nanmean(scores))

    definition = study_definition(
        fovs,
        eps_range=eps_range,
        min_samples_range=min_samples_range,
        objective=objective,
        seed=seed,
        fov_ids=fov_ids,
    )
    storage = None
    if storage_path is not None:
        Path(storage_path).parent.mkdir(parents=True, exist_ok=True)
        storage = f"sqlite:///{Path(storage_path).resolve()}"
    with _quiet_optuna():
        if storage is not None:
            _drop_other_definition(storage, study_name, definition, storage_path)
        study = optuna.create_study(
            storage=storage,
            study_name=study_name,
            load_if_exists=True,
            sampler=optuna.samplers.TPESampler(seed=seed),
            direction="maximize" if HIGHER_IS_BETTER[metrics[0]] else "minimize",
        )
        study.set_user_attr("definition", definition)
        done = _completed(study)
        if len(done) < n_trials:
            study.optimize(mean_score, n_trials=n_trials - len(done), show_progress_bar=progress)
    trials = pd.DataFrame(
        [
            {
                "number": t.number,
                "value": t.value,
                "eps": t.params["eps"],
                "min_samples": t.params["min_samples"],
                "state": t.state.name,
            }
            for t in _completed(study)
        ],
        columns=TRIAL_COLUMNS,
    )
    return dict(study.best_params), trials


def objective_metrics(objective: str | Sequence[str]) -> list[str]:
    """The metric names of an objective (one name, or a list whose mean is the score), checked:
    known (:data:`miro.evaluation.metrics.HIGHER_IS_BETTER`), at least one, no repeats, one
    direction."""
    metrics = [objective] if isinstance(objective, str) else list(objective)
    unknown = [m for m in metrics if m not in HIGHER_IS_BETTER]
    if unknown or not metrics:
        known = list(HIGHER_IS_BETTER)
        raise ValueError(f"unknown objective metric {objective!r}; known: {known}")
    if len(set(metrics)) < len(metrics):
        raise ValueError(f"objective {metrics} names a metric twice")
    if len({HIGHER_IS_BETTER[m] for m in metrics}) > 1:
        raise ValueError(f"objective {metrics} mixes metrics to maximise and to minimise")
    return metrics


def study_definition(
    fovs: Sequence[tuple[np.ndarray, np.ndarray]],
    *,
    eps_range: tuple[float, float],
    min_samples_range: tuple[int, int],
    objective: str | Sequence[str],
    seed: int,
    fov_ids: Sequence[int] | None,
) -> dict[str, Any]:
    """What a stored study's trials depend on, as JSON values (Optuna keeps it in the study's
    user attributes): the search space, objective, sampler seed, tuning FOV numbers, and the
    sha256 of the scored coordinates (as float64) and labels (as int64), FOV by FOV, so that
    re-squeezed points of a retrained model make a new study."""
    data = fingerprint(
        part
        for coords, truth in fovs
        for part in (np.asarray(coords, np.float64), np.asarray(truth, np.int64))
    )
    return {
        "eps_range": [float(eps_range[0]), float(eps_range[1])],
        "min_samples_range": [int(min_samples_range[0]), int(min_samples_range[1])],
        "objective": objective if isinstance(objective, str) else list(objective),
        "seed": int(seed),
        "fov_ids": None if fov_ids is None else [int(f) for f in fov_ids],
        "data": data,
    }


def _drop_other_definition(
    storage: str, study_name: str, definition: dict[str, Any], path: Path
) -> None:
    """Delete the study ``study_name`` of ``storage`` if it was made for another definition."""
    if study_name not in optuna.study.get_all_study_names(storage):
        return
    saved = optuna.load_study(study_name=study_name, storage=storage).user_attrs.get("definition")
    if saved == definition:
        return
    if not isinstance(saved, dict):
        reason = "it records no definition (written by an older version)"
    else:
        changed = sorted(
            k for k in definition.keys() | saved.keys() if saved.get(k) != definition.get(k)
        )
        reason = "changed: " + ", ".join(
            "the tuning coordinates or labels"
            if k == "data"
            else f"{k} {saved.get(k)} -> {definition.get(k)}"
            for k in changed
        )
    log.info("%s: study %r is not resumed, %s; starting a fresh study", path, study_name, reason)
    optuna.delete_study(study_name=study_name, storage=storage)


def _completed(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    return study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))


@contextmanager
def _quiet_optuna():
    """Silence Optuna's per-trial INFO logging, restoring the previous verbosity."""
    previous = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        yield
    finally:
        optuna.logging.set_verbosity(previous)


def optimise_with_settings(
    tuning: list[tuple[np.ndarray, np.ndarray]],
    dbscan: Mapping,
    *,
    seed: int,
    storage_path: Path | None,
    study_name: str,
    fov_ids: Sequence[int] | None = None,
) -> tuple[dict, pd.DataFrame]:
    """:func:`optimise_dbscan` with the search space of a dataset's ``dbscan`` settings
    (``eps_nm``, ``min_samples``, ``n_trials``, ``objective``: a metric or a list of metrics);
    ``fov_ids`` number the tuning
    FOVs (part of the study's definition)."""
    return optimise_dbscan(
        tuning,
        eps_range=tuple(dbscan["eps_nm"]),
        min_samples_range=tuple(dbscan["min_samples"]),
        n_trials=dbscan["n_trials"],
        seed=seed,
        storage_path=storage_path,
        study_name=study_name,
        objective=dbscan["objective"],
        fov_ids=fov_ids,
    )
