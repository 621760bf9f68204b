"""Rule steps_ablation_evaluate: compression index and Dirichlet energy of one trained network."""

import pandas as pd

from miro.ablation import depth_ablation_metrics
from miro.dataset import load_fovs
from miro.io import write_csv_atomic
from miro.runlog import script_logging
from miro.split import read_split
from miro.train import load_checkpoint

with script_logging(snakemake.log[0]) as log:
    model, payload = load_checkpoint(snakemake.input.model)
    test = load_fovs(snakemake.input.fovs, read_split(snakemake.input.split)["test"])
    metrics = depth_ablation_metrics(
        model, list(test.values()), payload["graph"]["radius"], device=snakemake.params.device
    )
    row = {
        "architecture": payload["architecture"],
        "alpha": payload["train"]["alpha"],
        "depth": payload["model"]["steps"],
        "repeat": payload["train"]["seed"],
        **metrics,
    }
    log.info("%d test FOVs: %s", len(test), row)
    write_csv_atomic(pd.DataFrame([row]), snakemake.output[0])
