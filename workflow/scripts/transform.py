"""Rule transform: squeeze every FOV of a dataset with the trained MIRO (coordinates in nm)."""

from miro.core.checkpoint import load_checkpoint
from miro.core.squeeze import squeeze_many
from miro.data.fovs import fov_index, load_fovs, write_per_fov
from miro.runlog import script_logging

with script_logging(snakemake.log[0]) as log:
    checkpoint = load_checkpoint(snakemake.input.model)
    fovs = load_fovs(snakemake.input.fovs)
    files = fov_index(snakemake.input.fovs)
    results = squeeze_many(
        checkpoint.model,
        [frame[["x", "y"]].to_numpy() for frame in fovs.values()],
        checkpoint.radius,
        device=snakemake.params.device,
        names=[f"FOV {f} ({files[f]})" for f in fovs],
    )
    squeezed = {fov: r.squeezed_nm for fov, r in zip(fovs, results, strict=True)}
    log.info("squeezed %d FOVs", len(squeezed))
    write_per_fov(squeezed, ["x", "y"], snakemake.output[0])
