"""Rule hyperparameters: Supp. Table 7 from the checkpoints of every configured dataset."""

from miro.ablation import hyperparameter_table, write_hyperparameters
from miro.runlog import script_logging
from miro.train import load_checkpoint

with script_logging(snakemake.log[0]) as log:
    datasets = snakemake.params.datasets
    payloads = {
        ds: load_checkpoint(path)[1] for ds, path in zip(datasets, snakemake.input, strict=True)
    }
    table = hyperparameter_table(payloads)
    log.info("hyper-parameters of %d models", len(table))
    out = snakemake.output
    write_hyperparameters(table, out.csv, out.md, preset=snakemake.params.preset)
