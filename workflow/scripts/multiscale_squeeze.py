"""Rule multiscale_squeeze: every FOV squeezed at the spot step (k* - 1) and the ring step
(last), from one trained multiscale MIRO."""

from miro.dataset import load_fovs, write_per_fov
from miro.multiscale import squeeze_levels
from miro.runlog import script_logging
from miro.train import load_checkpoint

with script_logging(snakemake.log[0]) as log:
    model, meta = load_checkpoint(snakemake.input.model)
    k_star = meta.get("train", {}).get("k_star")
    if k_star is None:
        raise ValueError(
            f"{snakemake.input.model}: not a multiscale model (trained without k_star)"
        )
    fovs = load_fovs(snakemake.input.fovs)
    coords = [frame[["x", "y"]].to_numpy() for frame in fovs.values()]
    levels = squeeze_levels(
        model, coords, meta["graph"]["radius"], k_star, device=snakemake.params.device
    )
    for level, path in zip(snakemake.params.levels, snakemake.output, strict=True):
        write_per_fov(dict(zip(fovs, levels[level], strict=True)), ["x", "y"], path)
    log.info("squeezed %d FOVs at k* = %d of %d steps", len(fovs), k_star, model.steps)
