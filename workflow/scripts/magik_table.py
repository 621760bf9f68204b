"""Rule magik_table: MAGIK-S vs MIRO + DBSCAN and DBSCAN, with costs (Supp. Table 6)."""

import _miro_path  # noqa: F401  (makes workflow/lib importable as miro)
import pandas as pd

from miro.core.checkpoint import load_checkpoint, parameter_count
from miro.runlog import script_logging
from miro.studies.magik import NAME, comparison_table, load_magik, write_comparison

with script_logging(snakemake.log[0]) as log:
    inputs, datasets = snakemake.input, snakemake.params.datasets
    metrics, costs = [], []
    for i, ds in enumerate(datasets):
        magik = load_magik(inputs.magik_models[i])
        miro = load_checkpoint(inputs.miro_models[i])
        costs += [
            {
                "dataset": ds,
                "method": NAME,
                "parameters": parameter_count(magik.model),
                "train_seconds": magik.train_seconds,
            },
            {
                "dataset": ds,
                "method": "MIRO",
                "parameters": parameter_count(miro.model),
                "train_seconds": miro.train_seconds if miro.history else float("nan"),
            },
        ]
        metrics += [pd.read_csv(inputs.magik_metrics[i]), pd.read_csv(inputs.miro_metrics[i])]
    table = comparison_table(pd.concat(metrics, ignore_index=True), pd.DataFrame(costs))
    log.info("MAGIK-S comparison:\n%s", table.to_string())
    write_comparison(table, snakemake.output.csv, snakemake.output.md, snakemake.params.preset)
