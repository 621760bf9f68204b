"""Rule augment: the few-shot augmented training graphs of a dataset, built by the job's
threads as worker processes (the graphs do not depend on their number)."""

import _miro_path  # noqa: F401  (makes workflow/lib importable as miro)

from miro.data.augment import augment_graphs, save_graphs, settings_for_dataset
from miro.data.fovs import load_fovs
from miro.data.split import read_split
from miro.runlog import script_logging

if __name__ == "__main__":  # worker processes re-import this script
    with script_logging(snakemake.log[0]) as log:
        settings = snakemake.params.settings
        train = load_fovs(snakemake.input.fovs, read_split(snakemake.input.split)["train"])
        aug = settings_for_dataset(settings, list(train.values()))
        n = settings["augment"]["n_graphs"]
        graphs = augment_graphs(
            list(train.values()),
            n=n,
            settings=aug,
            seed=settings["seed"],
            radius=settings["model"]["radius"],
            n_jobs=snakemake.threads,
        )
        log.info("%d graphs from %d processes, %s", n, snakemake.threads, aug)
        save_graphs(graphs, snakemake.output[0])
