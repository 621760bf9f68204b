"""Rule scorecard: our Table 1 next to the paper's, for the Table 1 datasets the paper reports
(their paper_name is a dataset of resources/paper_table1.csv; never the user's own data)."""

import _miro_path  # noqa: F401  (makes workflow/lib importable as miro)
import pandas as pd

from miro.outputs.tables import scorecard, write_scorecard
from miro.runlog import script_logging

with script_logging(snakemake.log[0]) as log:
    params = snakemake.params
    long_df = pd.concat([pd.read_csv(path) for path in snakemake.input], ignore_index=True)
    card = scorecard(long_df, params.paper_table, paper_names=params.paper_names)
    log.info("%d scorecard rows for %s", len(card), sorted(card["dataset"].unique()))
    write_scorecard(card, snakemake.output.csv, snakemake.output.md, preset=params.preset)
