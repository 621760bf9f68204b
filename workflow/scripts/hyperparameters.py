"""Rule hyperparameters: Supp. Table 7 from the checkpoints of every configured dataset."""

import _miro_path  # noqa: F401  (makes workflow/lib importable as miro)

from miro.core.checkpoint import load_checkpoint
from miro.runlog import script_logging
from miro.studies.ablations import hyperparameter_table, write_hyperparameters

with script_logging(snakemake.log[0]) as log:
    datasets = snakemake.params.datasets
    payloads = {
        ds: load_checkpoint(path) for ds, path in zip(datasets, snakemake.input, strict=True)
    }
    table = hyperparameter_table(payloads)
    log.info("hyper-parameters of %d models", len(table))
    out = snakemake.output
    write_hyperparameters(table, out.csv, out.md, preset=snakemake.params.preset)
