"""Rule transform: every FOV of a dataset squeezed by a run's model at the run's recurrent step
(coordinates in nm)."""

import _miro_path  # noqa: F401  (makes workflow/lib importable as miro)
import torch

from miro.config import execution_settings
from miro.core.checkpoint import load_checkpoint
from miro.core.squeeze import squeeze_many
from miro.data.fovs import fov_index, load_fovs, write_per_fov
from miro.runlog import script_logging

DEVICE = execution_settings(snakemake.config)["device"]
torch.set_num_threads(snakemake.threads)  # the rule's threads, not every core

with script_logging(snakemake.log[0]) as log:
    checkpoint = load_checkpoint(snakemake.input.model)
    fovs = load_fovs(snakemake.input.fovs)
    files, step = fov_index(snakemake.input.fovs), snakemake.params.step
    results = squeeze_many(
        checkpoint.model,
        [frame[["x", "y"]].to_numpy() for frame in fovs.values()],
        checkpoint.radius,
        device=DEVICE,
        step=step,
        names=[f"FOV {f} ({files[f]})" for f in fovs],
    )
    squeezed = {fov: r.squeezed_nm for fov, r in zip(fovs, results, strict=True)}
    log.info("squeezed %d FOVs at step %d of %d", len(squeezed), step, checkpoint.model.steps)
    write_per_fov(squeezed, ["x", "y"], snakemake.output[0])
