"""Rule train: MIRO on the augmented graphs (CUDA when present, CPU otherwise)."""

import shutil
from pathlib import Path

from miro.augment import load_graphs
from miro.dataset import load_fovs
from miro.runlog import script_logging
from miro.split import read_split
from miro.train import TrainConfig, fov_extent, train


def class_head(graphs: list, num_classes: int | None) -> int:
    """Outputs of the class head: the configured number, or the graphs' largest class + 1
    (0 without classes); fails when the configured number cannot hold the graphs' classes."""
    labels = [g.classes for g in graphs if getattr(g, "classes", None) is not None]
    needed = max((int(c.max()) + 1 for c in labels), default=0)
    if num_classes is None:
        return needed
    if labels and num_classes < needed:
        raise ValueError(
            f"model.num_classes {num_classes} is too small for the training classes 0..{needed - 1}"
        )
    if num_classes and not labels:
        raise ValueError(f"model.num_classes {num_classes}: the training data has no class column")
    return num_classes


def switch_step(graphs: list, k_star: int | None, steps: int) -> int | None:
    """k*: required for multiscale graphs (``y_early``), rejected for single-scale ones."""
    multiscale = any(getattr(g, "y_early", None) is not None for g in graphs)
    if multiscale and k_star is None:
        raise ValueError(
            "the training data is multiscale (index_coarse): set train.k_star, the first step "
            "that learns the coarse structures (paper, 'MIRO loss function')"
        )
    if k_star is not None and not multiscale:
        raise ValueError(f"train.k_star {k_star} needs multiscale data (an index_coarse column)")
    if k_star is not None and not 1 <= k_star < steps:
        raise ValueError(f"train.k_star {k_star} must lie in [1, {steps - 1}] for {steps} steps")
    return k_star


with script_logging(snakemake.log[0]) as log:
    settings = snakemake.params.settings
    graphs = [g for path in snakemake.input.graphs for g in load_graphs(path)]
    train_fovs = load_fovs(snakemake.input.fovs, read_split(snakemake.input.split)["train"])
    steps = settings["model"]["steps"]
    num_classes = class_head(graphs, settings["model"]["num_classes"])
    cfg = TrainConfig(
        width=settings["model"]["width"],
        steps=steps,
        radius=settings["model"]["radius"],
        fov_nm=fov_extent([f[["x", "y"]].to_numpy() for f in train_fovs.values()]),
        num_classes=num_classes,
        alpha=settings["train"]["alpha"],
        beta=settings["train"]["beta"] if num_classes else 0.0,
        k_star=switch_step(graphs, settings["train"]["k_star"], steps),
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
