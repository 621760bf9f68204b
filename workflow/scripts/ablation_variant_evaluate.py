"""Rule ablation_variant_evaluate: one variant of a dataset's MIRO evaluated as the dataset
(Optuna DBSCAN on the tuning FOVs, Table 1 metrics and per-class F1 on the test FOVs)."""

from pathlib import Path

import pandas as pd

from miro.config import execution_settings
from miro.core.checkpoint import load_checkpoint
from miro.data.fovs import load_fovs
from miro.data.split import read_split
from miro.files import write_csv_atomic
from miro.runlog import script_logging
from miro.studies.ablations import evaluate_on_dataset, variant_summary

DEVICE = execution_settings(snakemake.config)["device"]

with script_logging(snakemake.log[0]) as log:
    settings, wildcards = snakemake.params.settings, snakemake.wildcards
    checkpoint = load_checkpoint(snakemake.input.model)
    model = checkpoint.model
    split = read_split(snakemake.input.split)
    tuning = load_fovs(snakemake.input.fovs, split[settings["dbscan"]["tuning_fovs"]])
    test = load_fovs(snakemake.input.fovs, split["test"])
    evaluation = evaluate_on_dataset(
        model,
        checkpoint.radius,
        tuning,
        test,
        settings["dbscan"],
        dataset=wildcards.ds,
        names=snakemake.params.names,
        seed=settings["seed"],
        storage_path=Path(snakemake.params.study),
        study_name=f"{wildcards.ds}-w{wildcards.width}_a{wildcards.alpha}_b{wildcards.beta}",
        device=DEVICE,
    )
    summary = variant_summary(evaluation, checkpoint)
    log.info("%d test FOVs: %s", len(test), summary)
    write_csv_atomic(evaluation.metrics, snakemake.output.metrics)
    write_csv_atomic(evaluation.trials, snakemake.output.trials)
    write_csv_atomic(pd.DataFrame([summary]), snakemake.output.summary)
