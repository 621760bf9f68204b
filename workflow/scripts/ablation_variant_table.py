"""Rules width_ablation and loss_weights_ablation: Supp. Tables 8 and 9 from variant summaries."""

import pandas as pd

from miro.runlog import script_logging
from miro.studies.ablations import variant_table, write_variant_table

with script_logging(snakemake.log[0]) as log:
    summaries = [pd.read_csv(path).to_dict("records")[0] for path in snakemake.input]
    table = variant_table(snakemake.params.table_keys, summaries)
    log.info("%s ablation, %d variants:\n%s", snakemake.params.ablation, len(table), table)
    write_variant_table(
        table,
        snakemake.output.csv,
        snakemake.output.md,
        ablation=snakemake.params.ablation,
        dataset=snakemake.params.dataset,
        preset=snakemake.params.preset,
    )
