"""Rule split: training / test FOVs of a dataset (the paper's FOVs for benchmark folders)."""

import _miro_path  # noqa: F401  (makes workflow/lib importable as miro)

from miro.data.fovs import fov_index
from miro.data.split import split_fovs, write_split
from miro.runlog import script_logging

with script_logging(snakemake.log[0]) as log:
    settings = snakemake.params.settings
    split = split_fovs(
        sorted(fov_index(snakemake.input[0])),
        n_train=settings["n_train"],
        train_fovs=settings["train_fovs"],
        seed=settings["seed"],
    )
    log.info("train FOVs %s, %d test FOVs", split["train"], len(split["test"]))
    write_split(split, snakemake.output[0])
