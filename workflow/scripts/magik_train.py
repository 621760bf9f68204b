"""Rule magik_train: both MAGIK-S stages on a dataset's augmented graphs (Supp. Table 6)."""

import _miro_path  # noqa: F401  (makes workflow/lib importable as miro)

from miro.config import execution_settings
from miro.data.augment import load_graphs
from miro.files import write_csv_atomic
from miro.runlog import script_logging
from miro.studies.magik import MagikConfig, losses_table, save_magik, train_magik

DEVICE = execution_settings(snakemake.config)["device"]

with script_logging(snakemake.log[0]) as log:
    graphs = load_graphs(snakemake.input.graphs)
    cfg = MagikConfig(**snakemake.params.config, device=DEVICE)
    log.info("%s: training MAGIK-S on %d graphs: %s", snakemake.wildcards.ds, len(graphs), cfg)
    model, history = train_magik(graphs, cfg, log=log)
    save_magik(
        snakemake.output.model,
        model,
        cfg,
        radius=graphs[0].radius,
        history=history,
        n_graphs=len(graphs),
    )
    write_csv_atomic(losses_table(history), snakemake.output.losses)
