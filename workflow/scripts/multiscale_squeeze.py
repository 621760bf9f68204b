"""Rule multiscale_squeeze: every FOV squeezed at the spot step (k* - 1) and the ring step
(last), from one trained multiscale MIRO."""

from miro.config import execution_settings
from miro.core.checkpoint import load_checkpoint
from miro.data.fovs import load_fovs, write_per_fov
from miro.runlog import script_logging
from miro.studies.multiscale import squeeze_levels

DEVICE = execution_settings(snakemake.config)["device"]

with script_logging(snakemake.log[0]) as log:
    checkpoint = load_checkpoint(snakemake.input.model)
    model = checkpoint.model
    k_star = checkpoint.k_star
    if k_star is None:
        raise ValueError(
            f"{snakemake.input.model}: not a multiscale model (trained without k_star)"
        )
    fovs = load_fovs(snakemake.input.fovs)
    coords = [frame[["x", "y"]].to_numpy() for frame in fovs.values()]
    levels = squeeze_levels(
        model,
        coords,
        checkpoint.radius,
        k_star,
        device=DEVICE,
    )
    for level, path in zip(snakemake.params.levels, snakemake.output, strict=True):
        write_per_fov(dict(zip(fovs, levels[level], strict=True)), ["x", "y"], path)
    log.info("squeezed %d FOVs at k* = %d of %d steps", len(fovs), k_star, model.steps)
