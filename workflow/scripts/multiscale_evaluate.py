"""Rule multiscale_evaluate: the spot and ring levels of a multiscale dataset in one long metrics
table (datasets "<ds> spots" / "<ds> rings", with a ``level`` column) and paired statistics."""

import _miro_path  # noqa: F401  (makes workflow/lib importable as miro)
import pandas as pd

from miro.evaluation.stats import paired_tests
from miro.files import write_csv_atomic
from miro.runlog import script_logging
from miro.studies.multiscale import level_table

with script_logging(snakemake.log[0]) as log:
    ds, levels = snakemake.wildcards.ds, snakemake.params.levels
    tables = [
        level_table(pd.read_csv(path), ds, level)
        for level, path in zip(levels, snakemake.input, strict=True)
    ]
    long_df = pd.concat(tables, ignore_index=True)
    log.info("%s: %d rows over levels %s", ds, len(long_df), levels)
    write_csv_atomic(long_df, snakemake.output.metrics)
    write_csv_atomic(paired_tests(long_df), snakemake.output.stats)
