"""Rules width_ablation and loss_weights_ablation: Supp. Tables 8 and 9 from the runs of the
variants (metrics, checkpoint, tuned DBSCAN and, with a class head, the confusion table)."""

import json
from pathlib import Path

import _miro_path  # noqa: F401  (makes workflow/lib importable as miro)
import pandas as pd

from miro.core.checkpoint import load_checkpoint
from miro.runlog import script_logging
from miro.studies.ablations import variant_summary, variant_table, write_variant_table

with script_logging(snakemake.log[0]) as log:
    inputs = snakemake.input
    confusion = inputs.get("confusion") or [None] * len(inputs.metrics)
    summaries = [
        variant_summary(
            pd.read_csv(metrics),
            load_checkpoint(model),
            json.loads(Path(dbscan).read_text()),
            None if table is None else pd.read_csv(table, index_col="true_class"),
        )
        for metrics, model, dbscan, table in zip(
            inputs.metrics, inputs.models, inputs.dbscan, confusion, strict=True
        )
    ]
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
