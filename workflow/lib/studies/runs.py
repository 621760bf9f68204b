"""Runs: every network a dataset trains or evaluates, and the one scheme of their result paths.

A *run* of a dataset is one model and one way of evaluating it: the dataset's own MIRO
(`MAIN`), a variant retrained with other settings (the width and loss-weight ablations, paper
Supp. Tables 8-9; the recurrent-steps ablation, Supp. Fig. 2) or a level of a multiscale model
(spots at step k* - 1, rings at the last step; paper Fig. 5). Every run goes through the same
rules: train (if it trains) -> squeeze -> DBSCAN tuning -> clustering -> metrics. Its files::

    results/<dataset>/data/fovs, split.json, augment/graphs.pt     (shared by the dataset's runs)
    results/<dataset>/<run>/model.pt, losses.csv, work/            (runs that train)
    results/<dataset>/<run>/squeezed.csv.gz                         (the run's model and step)
    results/<dataset>/<run>/dbscan/<method>.json                    (+ _trials.csv, _study.db)
    results/<dataset>/<run>/labels/<method>.csv.gz
    results/<dataset>/<run>/metrics.csv                             (per test FOV, long format)

Run names are labels, never parsed: what a run is comes from `dataset_runs`. A run trains its
own model when it is its own ``model_of`` and its model is not the authors' published weights
(`imports_published`); `trained_runs` lists those models, each once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from miro.studies.multiscale import LEVELS, level_steps

MAIN = "miro"  # the run of a dataset's own MIRO
METHODS = ("DBSCAN", "MIRO")


@dataclass(frozen=True)
class Run:
    """One run of a dataset (see the module docstring)."""

    model_of: str  # the run whose model squeezes the FOVs (itself when it trains)
    train: dict[str, Any] | None = None  # training overrides of the dataset's settings
    step: int = -1  # recurrent step whose displacement squeezes (python index; -1 = last)
    truth: str = "index"  # ground-truth column it is tuned and scored against
    methods: tuple[str, ...] = METHODS  # methods clustered and scored
    labels: dict[str, Any] = field(default_factory=dict)  # what tables call it (not parsed)


def run_dir(results: str, dataset: str, run: str) -> str:
    """The folder of one run's files."""
    return f"{results}/{dataset}/{run}"


def dataset_runs(settings: Mapping, data_settings: Mapping[str, Mapping]) -> dict[str, dict]:
    """Every run of every dataset: ``{dataset: {run name: Run}}``.

    ``settings``: the resolved config (`miro.config.resolve_config`); ``data_settings``: the
    resolved settings of every dataset the data rules serve (the configured ones and the
    recurrent-steps ablation's data, `miro.studies.ablations.steps_data_settings`).
    """
    from miro.studies.ablations import (  # the studies define their runs
        STEPS_DATASET,
        ablation_variants,
        steps_runs,
        variant_training,
    )

    runs: dict[str, dict[str, Run]] = {
        ds: {MAIN: Run(model_of=MAIN, train={})} for ds in data_settings if ds != STEPS_DATASET
    }
    for ds in settings["experiments"]["multiscale"]:
        train, steps = data_settings[ds]["train"], data_settings[ds]["model"]["steps"]
        for level, step in level_steps(train["k_star"], steps).items():
            runs[ds][level] = Run(
                model_of=MAIN,
                step=step,
                truth=LEVELS[level],
                labels={"level": level},
            )
    for ablation in ("width", "loss_weights"):
        ds = settings["ablations"][ablation]["dataset"]
        for key, name in ablation_variants(settings, ablation):
            train = variant_training(data_settings[ds], key)
            runs[ds][name] = Run(model_of=name, train=train, methods=("MIRO",), labels=key)
    if STEPS_DATASET in data_settings:
        runs[STEPS_DATASET] = {
            name: Run(model_of=name, train=train, methods=(), labels=labels)
            for name, (train, labels) in steps_runs(settings, data_settings[STEPS_DATASET]).items()
        }
    return runs


def imports_published(data_settings: Mapping[str, Mapping], dataset: str, run: str) -> bool:
    """True when the run's model is imported, not trained: the dataset's own MIRO with
    ``model.source: published`` (the authors' weights, docs/published.md)."""
    return run == MAIN and data_settings[dataset]["model"]["source"] == "published"


def trained_runs(
    runs: Mapping[str, Mapping[str, Run]],
    data_settings: Mapping[str, Mapping],
    datasets: Iterable[str],
) -> list[tuple[str, str]]:
    """(dataset, run) of every model that rule train fits for ``datasets`` (`dataset_runs`),
    each model once: runs that evaluate another run's model (the multiscale levels) and
    imported published weights are left out."""
    return [
        (ds, name)
        for ds in datasets
        for name, run in runs[ds].items()
        if run.model_of == name and not imports_published(data_settings, ds, name)
    ]
