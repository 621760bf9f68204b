"""Rule landscape_table: per Table 1 dataset and method, the best landscape score, the chosen
parameters' score and the area within 0.05 of the best (results/landscape/<ds>.csv)."""

import _miro_path  # noqa: F401  (makes workflow/lib importable as miro)
import pandas as pd

from miro.evaluation.landscape import summary
from miro.outputs.tables import write_landscape_table
from miro.runlog import script_logging

with script_logging(snakemake.log[0]) as log:
    tables = {
        ds: pd.read_csv(path)
        for ds, path in zip(snakemake.params.datasets, snakemake.input, strict=True)
    }
    table = summary(tables)
    log.info("landscape summary of %d datasets", len(tables))
    out = snakemake.output
    write_landscape_table(table, out.csv, out.md, preset=snakemake.params.preset)
