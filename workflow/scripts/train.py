"""Rule train: MIRO on the augmented graphs (CUDA when present, CPU otherwise)."""

import shutil
from pathlib import Path

from miro.augment import load_graphs
from miro.runlog import script_logging
from miro.train import TrainConfig, train

with script_logging(snakemake.log[0]) as log:
    settings = snakemake.params.settings
    graphs = [g for path in snakemake.input for g in load_graphs(path)]
    cfg = TrainConfig(
        width=settings["model"]["width"],
        steps=settings["model"]["steps"],
        radius=settings["model"]["radius"],
        alpha=settings["train"]["alpha"],
        lr=settings["train"]["lr"],
        batch_size=settings["train"]["batch_size"],
        epochs=settings["train"]["epochs"],
        seed=snakemake.params.seed,
        device=snakemake.params.device,
    )
    log.info("training on %d graphs: %s", len(graphs), cfg)
    workdir = Path(snakemake.params.workdir)
    final = train(graphs, cfg, workdir, log=log)
    shutil.copyfile(workdir / "losses.csv", snakemake.output.losses)
    Path(final).replace(snakemake.output.model)
