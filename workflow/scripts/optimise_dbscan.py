"""Rule optimise_dbscan: DBSCAN parameters for one method (published, or an Optuna study)."""

import json
from pathlib import Path

import _miro_path  # noqa: F401  (makes workflow/lib importable as miro)
import pandas as pd

from miro.data.fovs import ground_truth, load_fovs, read_per_fov
from miro.data.published_files import authors_params
from miro.data.split import read_split
from miro.evaluation.tuning import TRIAL_COLUMNS, optimise_with_settings
from miro.files import write_csv_atomic, write_text_atomic
from miro.runlog import script_logging

with script_logging(snakemake.log[0]) as log:
    settings, method = snakemake.params.settings, snakemake.wildcards.method
    dbscan = settings["dbscan"]
    if method == "DBSCAN" and dbscan.get("baseline") == "published":
        best = dict(settings["published_dbscan"], source="published (benchmark_settings.csv)")
        trials = pd.DataFrame(columns=TRIAL_COLUMNS)
    elif method == "MIRO" and dbscan.get("source") == "published":
        best = authors_params(settings["authors"], next(iter(snakemake.input.metadata), None))
        trials = pd.DataFrame(columns=TRIAL_COLUMNS)
    else:
        fov_ids = read_split(snakemake.input.split)[dbscan["tuning_fovs"]]
        fovs = load_fovs(snakemake.input.fovs, fov_ids)
        squeezed = read_per_fov(snakemake.input.coords[0], ["x", "y"]) if method == "MIRO" else {}
        tuning = [
            (
                squeezed.get(f, frame[["x", "y"]].to_numpy()),
                ground_truth(frame, settings["truth"], f"{snakemake.input.fovs} FOV {f}"),
            )
            for f, frame in fovs.items()
        ]
        best, trials = optimise_with_settings(
            tuning,
            dbscan,
            seed=settings["seed"],
            storage_path=Path(snakemake.params.study),
            study_name=f"{snakemake.wildcards.ds}-{snakemake.wildcards.run}-{method}",
            fov_ids=list(fovs),
        )
        best = dict(best, source=f"optuna on {dbscan['tuning_fovs']} FOVs {fov_ids}")
    log.info("%s: %s", method, best)
    write_csv_atomic(trials, snakemake.output.trials)
    write_text_atomic(snakemake.output.params, json.dumps(best, indent=2))
