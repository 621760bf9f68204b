"""Rule multiscale_dbscan: DBSCAN parameters of one level and method, tuned by Optuna against
that level's ground truth on the tuning FOVs."""

import json
from pathlib import Path

from miro.data.fovs import load_fovs, read_per_fov
from miro.data.split import read_split
from miro.evaluation.tuning import optimise_with_settings
from miro.files import atomic_path, write_csv_atomic
from miro.runlog import script_logging
from miro.studies.multiscale import truth

with script_logging(snakemake.log[0]) as log:
    dbscan, level = snakemake.params.settings["dbscan"], snakemake.wildcards.level
    method = snakemake.wildcards.method
    fov_ids = read_split(snakemake.input.split)[dbscan["tuning_fovs"]]
    fovs = load_fovs(snakemake.input.fovs, fov_ids)
    squeezed = read_per_fov(snakemake.input.squeezed, ["x", "y"])
    tuning = [
        (
            squeezed[f] if method == "MIRO" else frame[["x", "y"]].to_numpy(),
            truth(frame, level, f"FOV {f}"),
        )
        for f, frame in fovs.items()
    ]
    best, trials = optimise_with_settings(
        tuning,
        dbscan,
        seed=snakemake.params.settings["seed"],
        storage_path=Path(snakemake.params.study),
        study_name=f"{snakemake.wildcards.ds}-{level}-{method}",
    )
    best = dict(best, source=f"optuna on {dbscan['tuning_fovs']} FOVs {fov_ids}, {level}")
    log.info("%s %s: %s", level, method, best)
    write_csv_atomic(trials, snakemake.output.trials)
    with atomic_path(snakemake.output.params) as tmp:
        Path(tmp).write_text(json.dumps(best, indent=2))
