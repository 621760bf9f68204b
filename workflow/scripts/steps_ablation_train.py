"""Rule steps_ablation_train: MIRO or the message-passing GNN at one depth, seed = repeat."""

from pathlib import Path

from miro.augment import load_graphs
from miro.runlog import script_logging
from miro.train import config_from_settings, train

with script_logging(snakemake.log[0]) as log:
    wildcards = snakemake.wildcards
    graphs = [g for path in snakemake.input.graphs for g in load_graphs(path)]
    cfg = config_from_settings(
        snakemake.params.settings,
        graphs,
        architecture=wildcards.arch,
        steps=int(wildcards.depth),
        seed=int(wildcards.repeat),
        device=snakemake.params.device,
    )
    log.info("training on %d graphs: %s", len(graphs), cfg)
    final = train(graphs, cfg, Path(snakemake.params.workdir), log=log)
    Path(final).replace(snakemake.output[0])
