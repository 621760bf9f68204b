"""Rule fig2: Fig. 2-style panel of one dataset (example test FOV + metric box plots)."""

import _miro_path  # noqa: F401  (makes workflow/lib importable as miro)
import pandas as pd

from miro.data.fovs import load_fovs, read_per_fov
from miro.data.split import example_fov
from miro.evaluation.stats import paired_tests
from miro.outputs.figures import fig2
from miro.runlog import script_logging

with script_logging(snakemake.log[0]) as log:
    ds = snakemake.wildcards.ds
    fov = example_fov(snakemake.input.split, snakemake.params.example_fov)
    frame = load_fovs(snakemake.input.fovs, [fov])[fov]
    labels = {
        method: read_per_fov(path, ["label"])[fov]
        for method, path in zip(snakemake.params.methods, snakemake.input.labels, strict=True)
    }
    labels["Ground truth"] = frame["index"].to_numpy()
    example = {"coords": frame[["x", "y"]].to_numpy(), "labels": labels, "fov": fov}
    long_df = pd.read_csv(snakemake.input.metrics)
    fig2(example, long_df, paired_tests(long_df), ds, snakemake.output.png, snakemake.output.pdf)
    log.info("%s: example test FOV %d", ds, fov)
