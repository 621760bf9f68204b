"""Rule transform: squeeze every FOV of a dataset with the trained MIRO (coordinates in nm)."""

from miro.dataset import load_fovs, write_per_fov
from miro.runlog import script_logging
from miro.train import load_checkpoint
from miro.transform import squeeze_many

with script_logging(snakemake.log[0]) as log:
    model, meta = load_checkpoint(snakemake.input.model)
    fovs = load_fovs(snakemake.input.fovs)
    coords = [frame[["x", "y"]].to_numpy() for frame in fovs.values()]
    results = squeeze_many(model, coords, meta["graph"]["radius"], device=snakemake.params.device)
    squeezed = {fov: r.squeezed_nm for fov, r in zip(fovs, results, strict=True)}
    log.info("squeezed %d FOVs", len(squeezed))
    write_per_fov(squeezed, ["x", "y"], snakemake.output[0])
