"""Rule magik_table: MAGIK-S vs MIRO + DBSCAN and DBSCAN, with costs (Supp. Table 6)."""

import pandas as pd

from miro.magik import NAME, comparison_table, load_magik, parameter_count, write_comparison
from miro.runlog import script_logging
from miro.train import load_checkpoint

with script_logging(snakemake.log[0]) as log:
    inputs, datasets = snakemake.input, snakemake.params.datasets
    metrics, costs = [], []
    for i, ds in enumerate(datasets):
        magik, payload = load_magik(inputs.magik_models[i])
        miro, miro_payload = load_checkpoint(inputs.miro_models[i])
        miro_seconds = [row["seconds"] for row in miro_payload.get("history", [])]
        costs += [
            {
                "dataset": ds,
                "method": NAME,
                "parameters": parameter_count(magik),
                "train_seconds": payload["train_seconds"],
            },
            {
                "dataset": ds,
                "method": "MIRO",
                "parameters": parameter_count(miro),
                "train_seconds": sum(miro_seconds) if miro_seconds else float("nan"),
            },
        ]
        metrics += [pd.read_csv(inputs.magik_metrics[i]), pd.read_csv(inputs.miro_metrics[i])]
    table = comparison_table(pd.concat(metrics, ignore_index=True), pd.DataFrame(costs))
    log.info("MAGIK-S comparison:\n%s", table.to_string())
    write_comparison(table, snakemake.output.csv, snakemake.output.md, snakemake.params.preset)
