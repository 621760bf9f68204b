"""Rule training_table: epochs, final and minimum loss, training time of every trained model."""

import _miro_path  # noqa: F401  (makes workflow/lib importable as miro)

from miro.core.checkpoint import training_record
from miro.files import write_csv_atomic
from miro.runlog import script_logging
from miro.studies.training_report import read_losses, training_table

with script_logging(snakemake.log[0]) as log:
    inputs = zip(
        snakemake.params.models, snakemake.input.losses, snakemake.input.models, strict=True
    )
    table = training_table(
        (ds, model, read_losses(losses), training_record(checkpoint)[1])
        for (ds, model), losses, checkpoint in inputs
    )
    write_csv_atomic(table, snakemake.output[0])
    log.info("training table of %d models", len(table))
