"""Rule fig3: Fig. 3 panel of one shape mixture (example FOV, confusion matrix, metrics)."""

import _miro_path  # noqa: F401  (makes workflow/lib importable as miro)
import pandas as pd

from miro.data.fovs import load_fovs, read_per_fov
from miro.data.split import example_fov
from miro.evaluation.stats import paired_tests
from miro.outputs.study_figures import fig3
from miro.runlog import script_logging

with script_logging(snakemake.log[0]) as log:
    ds = snakemake.wildcards.ds
    fov = example_fov(snakemake.input.split, snakemake.params.example_fov)
    frame = load_fovs(snakemake.input.fovs, [fov])[fov]
    example = {
        "coords": frame[["x", "y"]].to_numpy(),
        "names": snakemake.params.names,
        "fov": fov,
        "labels": {
            "MIRO": (
                read_per_fov(snakemake.input.labels, ["label"])[fov],
                read_per_fov(snakemake.input.classes, ["class"])[fov],
            ),
            "Ground truth": (frame["index"].to_numpy(), frame["class"].to_numpy()),
        },
    }
    confusion = pd.read_csv(snakemake.input.confusion, index_col="true_class")
    long_df = pd.read_csv(snakemake.input.metrics)
    out = snakemake.output
    fig3(example, confusion, long_df, paired_tests(long_df), ds, out.png, out.pdf)
    log.info("%s: example test FOV %d", ds, fov)
