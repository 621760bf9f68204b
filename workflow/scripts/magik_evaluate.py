"""Rule magik_evaluate: MAGIK-S labels and per-FOV metrics on a dataset's test FOVs."""

import _miro_path  # noqa: F401  (makes workflow/lib importable as miro)

from miro.config import execution_settings
from miro.data.fovs import load_fovs
from miro.data.split import read_split
from miro.evaluation.metrics import FovRecord, evaluate_fovs
from miro.files import write_csv_atomic
from miro.runlog import script_logging
from miro.studies.magik import NAME, load_magik, predict_labels

DEVICE = execution_settings(snakemake.config)["device"]

with script_logging(snakemake.log[0]) as log:
    checkpoint = load_magik(snakemake.input.model)
    model, radius, cfg = checkpoint.model, checkpoint.radius, checkpoint.train
    test = load_fovs(snakemake.input.fovs, read_split(snakemake.input.split)["test"])
    ds, records = snakemake.wildcards.ds, []
    for fov, frame in test.items():
        coords = frame[["x", "y"]].to_numpy()
        labels = predict_labels(
            model,
            coords,
            radius,
            cfg["threshold"],
            seed=cfg["seed"],
            device=DEVICE,
        )
        log.info("FOV %d: %d localizations, %d clusters", fov, len(labels), labels.max())
        records.append(FovRecord(ds, fov, coords, frame["index"].to_numpy(), {NAME: labels}))
    write_csv_atomic(evaluate_fovs(records), snakemake.output[0])
