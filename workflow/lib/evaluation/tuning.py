"""Optuna search of DBSCAN parameters on tuning FOVs (paper "DBSCAN parameter selection":
one (eps, min_samples) pair per scenario, chosen to maximise ARI)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import optuna
import pandas as pd

from miro.evaluation.dbscan import dbscan_labels
from miro.evaluation.metrics import HIGHER_IS_BETTER, evaluate_fov

TRIAL_COLUMNS = ["number", "value", "eps", "min_samples", "state"]


def optimise_dbscan(
    fovs: Sequence[tuple[np.ndarray, np.ndarray]],
    *,
    eps_range: tuple[float, float],
    min_samples_range: tuple[int, int],
    n_trials: int,
    seed: int,
    storage_path: Path | None = None,
    study_name: str = "dbscan",
    objective: str = "ARI",
    progress: bool = False,
) -> tuple[dict[str, float | int], pd.DataFrame]:
    """Tune DBSCAN's eps (nm, uniform in ``eps_range``) and min_samples (integer, inclusive
    ``min_samples_range``) with a TPE sampler seeded by ``seed``.

    The score of a trial is the mean, over ``fovs`` ((coords (n, 2) in nm, ground-truth labels)
    pairs), of the metric named ``objective`` (a :data:`miro.evaluation.metrics.METRICS` name; ARI
    as in
    the paper), maximised or minimised as :data:`miro.evaluation.metrics.HIGHER_IS_BETTER` says.

    With ``storage_path`` the study lives in that SQLite file: calling again with the same file
    and ``study_name`` resumes it and runs only the trials still missing to reach ``n_trials``
    completed ones. Fresh studies with the same seed give identical trials; a resumed study
    continues with a freshly seeded sampler, so its later trials are reproducible but may differ
    from those of an uninterrupted run. Trials whose score is NaN count as failed.

    Returns the best parameters ``{"eps", "min_samples"}`` and the completed trials (columns
    number, value, eps, min_samples, state).
    """
    if objective not in HIGHER_IS_BETTER:
        known = list(HIGHER_IS_BETTER)
        raise ValueError(f"unknown objective metric {objective!r}; known: {known}")
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
            evaluate_fov(
                coords, truth, {"dbscan": dbscan_labels(coords, eps, min_samples)}, [objective]
            ).at[0, objective]
            for coords, truth in fovs
        ]
        return float(np.nanmean(scores))

    storage = None
    if storage_path is not None:
        Path(storage_path).parent.mkdir(parents=True, exist_ok=True)
        storage = f"sqlite:///{Path(storage_path).resolve()}"
    with _quiet_optuna():
        study = optuna.create_study(
            storage=storage,
            study_name=study_name,
            load_if_exists=True,
            sampler=optuna.samplers.TPESampler(seed=seed),
            direction="maximize" if HIGHER_IS_BETTER[objective] else "minimize",
        )
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
) -> tuple[dict, pd.DataFrame]:
    """:func:`optimise_dbscan` with the search space of a dataset's ``dbscan`` settings
    (``eps_nm``, ``min_samples``, ``n_trials``, ``objective``)."""
    return optimise_dbscan(
        tuning,
        eps_range=tuple(dbscan["eps_nm"]),
        min_samples_range=tuple(dbscan["min_samples"]),
        n_trials=dbscan["n_trials"],
        seed=seed,
        storage_path=storage_path,
        study_name=study_name,
        objective=dbscan["objective"],
    )
