"""Rule transform: squeeze every FOV of a dataset with the trained MIRO (coordinates in nm)."""

from miro.config import execution_settings
from miro.core.checkpoint import load_checkpoint
from miro.core.squeeze import squeeze_many
from miro.data.fovs import load_fovs, write_per_fov
from miro.runlog import script_logging

DEVICE = execution_settings(snakemake.config)["device"]

with script_logging(snakemake.log[0]) as log:
    checkpoint = load_checkpoint(snakemake.input.model)
    model = checkpoint.model
    fovs = load_fovs(snakemake.input.fovs)
    coords = [frame[["x", "y"]].to_numpy() for frame in fovs.values()]
    results = squeeze_many(model, coords, checkpoint.radius, device=DEVICE)
    squeezed = {fov: r.squeezed_nm for fov, r in zip(fovs, results, strict=True)}
    log.info("squeezed %d FOVs", len(squeezed))
    write_per_fov(squeezed, ["x", "y"], snakemake.output[0])
