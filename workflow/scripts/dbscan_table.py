"""Rule dbscan_table: Supplementary Tables 1-2, the DBSCAN parameters every dataset's methods
used (results/<ds>/miro/dbscan/<method>.json) next to the authors' published values."""

import json

import _miro_path  # noqa: F401  (makes workflow/lib importable as miro)
import pandas as pd

from miro.data.published_files import authors_params
from miro.outputs.tables import dbscan_row, dbscan_table, write_dbscan_table
from miro.runlog import script_logging

with script_logging(snakemake.log[0]) as log:
    inputs, entries = snakemake.input, snakemake.params.entries
    metadata = dict(zip(snakemake.params.metadata, inputs.metadata, strict=True))
    rows = []
    for entry, params, trials in zip(entries, inputs.params, inputs.trials, strict=True):
        spec = entry["authors"]
        authors = None if spec is None else authors_params(spec, metadata.get(spec.get("metadata")))
        with open(params, encoding="utf-8") as f:
            used = json.load(f)
        rows.append(
            dbscan_row(entry["dataset"], entry["method"], used, pd.read_csv(trials), authors)
        )
    table = dbscan_table(rows)
    log.info("DBSCAN parameters of %d dataset x method rows", len(table))
    out = snakemake.output
    write_dbscan_table(table, out.csv, out.md, preset=snakemake.params.preset)
