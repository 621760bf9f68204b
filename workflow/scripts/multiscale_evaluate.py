"""Rule multiscale_evaluate: DBSCAN and MIRO + DBSCAN at the spot and ring levels of the test
FOVs: labels, per-FOV metrics (datasets "<ds> spots" / "<ds> rings") and paired statistics."""

import json
from pathlib import Path

import pandas as pd

from miro.data.fovs import load_fovs, read_per_fov, write_per_fov
from miro.data.split import read_split
from miro.evaluation.stats import paired_tests
from miro.files import write_csv_atomic
from miro.runlog import script_logging
from miro.studies.multiscale import evaluate_level

with script_logging(snakemake.log[0]) as log:
    ds, levels, methods = snakemake.wildcards.ds, snakemake.params.levels, snakemake.params.methods
    fovs = load_fovs(snakemake.input.fovs, read_split(snakemake.input.split)["test"])
    params = iter(json.loads(Path(p).read_text()) for p in snakemake.input.params)
    tables = []
    for level, squeezed_path, labels_path in zip(
        levels, snakemake.input.squeezed, snakemake.output.labels, strict=True
    ):
        squeezed = read_per_fov(squeezed_path, ["x", "y"])
        level_params = {method: next(params) for method in methods}  # input order: level, method
        table, labels = evaluate_level(ds, level, fovs, squeezed, level_params)
        write_per_fov(labels, ["DBSCAN", "MIRO"], labels_path)
        tables.append(table)
        log.info("%s: %s", level, level_params)
    long_df = pd.concat(tables, ignore_index=True)
    write_csv_atomic(long_df, snakemake.output.metrics)
    write_csv_atomic(paired_tests(long_df), snakemake.output.stats)
