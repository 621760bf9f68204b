"""Rules steps_ablation_train and ablation_variant_train: one network of an ablation, trained
with the settings of its data (params.settings) and the run's overrides (params.overrides)."""

from pathlib import Path

from miro.ablation import ablation_config
from miro.augment import load_graphs
from miro.dataset import load_fovs
from miro.runlog import script_logging
from miro.split import read_split
from miro.train import train

with script_logging(snakemake.log[0]) as log:
    graphs = [g for path in snakemake.input.graphs for g in load_graphs(path)]
    train_fovs = load_fovs(snakemake.input.fovs, read_split(snakemake.input.split)["train"])
    cfg = ablation_config(
        snakemake.params.settings,
        graphs,
        [f[["x", "y"]].to_numpy() for f in train_fovs.values()],
        **snakemake.params.overrides,
        device=snakemake.params.device,
    )
    log.info("training on %d graphs: %s", len(graphs), cfg)
    final = train(graphs, cfg, Path(snakemake.params.workdir), log=log)
    Path(final).replace(snakemake.output[0])
