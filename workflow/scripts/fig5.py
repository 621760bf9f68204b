"""Rule fig5: Fig. 5a-b panel of one multiscale dataset (rings and spots)."""

import _miro_path  # noqa: F401  (makes workflow/lib importable as miro)
import pandas as pd

from miro.data.fovs import ground_truth, load_fovs, read_per_fov
from miro.data.split import example_fov
from miro.outputs.study_figures import fig5
from miro.runlog import script_logging
from miro.studies.multiscale import LEVELS, level_dataset

with script_logging(snakemake.log[0]) as log:
    ds, methods = snakemake.wildcards.ds, snakemake.params.methods
    fov = example_fov(snakemake.input.split, snakemake.params.example_fov)
    frame = load_fovs(snakemake.input.fovs, [fov])[fov]
    paths = iter(snakemake.input.labels)  # level-major, methods in order
    labels = {
        level: {method: read_per_fov(next(paths), ["label"])[fov] for method in methods}
        for level in snakemake.params.levels
    }
    examples = {
        level: {
            "coords": frame[["x", "y"]].to_numpy(),
            "fov": fov,
            "labels": labels[level]
            | {"Ground truth": ground_truth(frame, LEVELS[level], f"FOV {fov}")},
        }
        for level in ("rings", "spots")  # the paper's order: a rings, b spots
    }
    datasets = {level: level_dataset(ds, level) for level in examples}
    long_df, stats = pd.read_csv(snakemake.input.metrics), pd.read_csv(snakemake.input.stats)
    fig5(examples, long_df, stats, datasets, ds, snakemake.output.png, snakemake.output.pdf)
    log.info("%s: example test FOV %d", ds, fov)
