"""Rule augment: one chunk of the few-shot augmented training graphs."""

import numpy as np

from miro.data.augment import augment_graphs, save_graphs, settings_for_dataset
from miro.data.fovs import load_fovs
from miro.data.split import read_split
from miro.runlog import script_logging

with script_logging(snakemake.log[0]) as log:
    settings = snakemake.params.settings
    chunk, chunks = int(snakemake.wildcards.chunk), settings["augment"]["chunks"]
    bounds = np.linspace(0, settings["augment"]["n_graphs"], chunks + 1).astype(int)
    train = load_fovs(snakemake.input.fovs, read_split(snakemake.input.split)["train"])
    aug = settings_for_dataset(settings, list(train.values()))
    graphs = augment_graphs(
        list(train.values()),
        n=bounds[chunk + 1] - bounds[chunk],
        settings=aug,
        seed=snakemake.params.seed,
        radius=settings["model"]["radius"],
        start=bounds[chunk],
    )
    log.info("chunk %d: graphs %d..%d, %s", chunk, bounds[chunk], bounds[chunk + 1], aug)
    save_graphs(graphs, snakemake.output[0])
