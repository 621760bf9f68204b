"""Rule loss_curve: the loss per epoch and per term of one trained model, log scale."""

import _miro_path  # noqa: F401  (makes workflow/lib importable as miro)

from miro.core.checkpoint import training_record
from miro.outputs.figures import save_figure
from miro.runlog import script_logging
from miro.studies.training_report import loss_figure, read_losses

with script_logging(snakemake.log[0]) as log:
    ds, model = snakemake.wildcards.ds, snakemake.wildcards.model
    losses = read_losses(snakemake.input.losses)
    train, n_graphs = training_record(snakemake.input.model)
    save_figure(loss_figure(losses, ds, model, train, n_graphs), snakemake.output[0])
    log.info("%s / %s: %d loss rows", ds, model, len(losses))
