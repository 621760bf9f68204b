"""Rules train, steps_ablation_train and ablation_variant_train: a network on augmented graphs
(CUDA when present, CPU otherwise), with the dataset's settings and the rule's overrides."""

from pathlib import Path

import _miro_path  # noqa: F401  (makes workflow/lib importable as miro)
import torch

from miro.config import execution_settings
from miro.core.training import config_from_settings, train
from miro.data.augment import load_graphs
from miro.data.fovs import load_fovs
from miro.data.split import read_split
from miro.files import write_bytes_atomic
from miro.runlog import script_logging

EXECUTION = execution_settings(snakemake.config)
torch.set_num_threads(snakemake.threads)  # the rule's threads, not every core

with script_logging(snakemake.log[0]) as log:
    graphs = load_graphs(snakemake.input.graphs)
    train_fovs = load_fovs(snakemake.input.fovs, read_split(snakemake.input.split)["train"])
    cfg = config_from_settings(
        snakemake.params.settings,
        graphs,
        [f[["x", "y"]].to_numpy() for f in train_fovs.values()],
        **snakemake.params.overrides,
        device=EXECUTION["device"],
        fast=EXECUTION["fast_training"],
    )
    log.info("training on %d graphs: %s", len(graphs), cfg)
    workdir = Path(snakemake.params.workdir)
    final = train(graphs, cfg, workdir, log=log)
    if hasattr(snakemake.output, "losses"):
        write_bytes_atomic(snakemake.output.losses, (workdir / "losses.csv").read_bytes())
    Path(final).replace(snakemake.output[0])
