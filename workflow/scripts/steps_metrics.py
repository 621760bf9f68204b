"""Rule steps_metrics: compression index and Dirichlet energy of one steps-ablation network."""

import _miro_path  # noqa: F401  (makes workflow/lib importable as miro)
import pandas as pd

from miro.config import execution_settings
from miro.core.checkpoint import load_checkpoint
from miro.data.fovs import load_fovs
from miro.data.split import read_split
from miro.files import write_csv_atomic
from miro.runlog import script_logging
from miro.studies.ablations import depth_ablation_metrics

DEVICE = execution_settings(snakemake.config)["device"]

with script_logging(snakemake.log[0]) as log:
    checkpoint = load_checkpoint(snakemake.input.model)
    model = checkpoint.model
    test = load_fovs(snakemake.input.fovs, read_split(snakemake.input.split)["test"])
    metrics = depth_ablation_metrics(
        model,
        list(test.values()),
        checkpoint.radius,
        device=DEVICE,
    )
    row = {
        "architecture": checkpoint.architecture,
        "alpha": checkpoint.train["alpha"],
        "depth": model.steps,
        "repeat": checkpoint.train["seed"],
        **metrics,
    }
    log.info("%d test FOVs: %s", len(test), row)
    write_csv_atomic(pd.DataFrame([row]), snakemake.output[0])
