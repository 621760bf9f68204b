"""Rule steps_ablation_train: MIRO or the message-passing GNN at one depth, seed = repeat."""

from pathlib import Path

from miro.augment import load_graphs
from miro.runlog import script_logging
from miro.train import TrainConfig, train

with script_logging(snakemake.log[0]) as log:
    settings, wildcards = snakemake.params.settings, snakemake.wildcards
    graphs = [g for path in snakemake.input.graphs for g in load_graphs(path)]
    cfg = TrainConfig(
        architecture=wildcards.arch,
        width=settings["model"]["width"],
        steps=int(wildcards.depth),
        radius=settings["model"]["radius"],
        alpha=settings["train"]["alpha"],
        lr=settings["train"]["lr"],
        batch_size=settings["train"]["batch_size"],
        epochs=settings["train"]["epochs"],
        seed=int(wildcards.repeat),
        device=snakemake.params.device,
    )
    log.info("training on %d graphs: %s", len(graphs), cfg)
    final = train(graphs, cfg, Path(snakemake.params.workdir), log=log)
    Path(final).replace(snakemake.output[0])
