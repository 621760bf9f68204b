"""Rule single_shot_table: Supplementary Table 5, the Table 1 metrics of single-shot models."""

import _miro_path  # noqa: F401  (makes workflow/lib importable as miro)
import pandas as pd

from miro.outputs.tables import SINGLE_SHOT_TITLE, table1, write_table1
from miro.runlog import script_logging

with script_logging(snakemake.log[0]) as log:
    out = snakemake.output
    long_df = pd.concat([pd.read_csv(path) for path in snakemake.input], ignore_index=True)
    table = table1(long_df)
    write_table1(
        table, out.csv, out.md, out.tex, preset=snakemake.params.preset, title=SINGLE_SHOT_TITLE
    )
    log.info("single-shot table: %d datasets", table["dataset"].nunique())
