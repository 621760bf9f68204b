"""Rule cluster: DBSCAN labels (0 = noise) of every FOV, on raw or MIRO-squeezed coordinates."""

import json
from pathlib import Path

import _miro_path  # noqa: F401  (makes workflow/lib importable as miro)

from miro.data.fovs import fov_index, load_fovs, write_per_fov
from miro.data.results import read_results
from miro.errors import about
from miro.evaluation.dbscan import dbscan_labels
from miro.runlog import script_logging

STALE = (
    "the squeezed coordinates are stale (written for other FOV files): re-run squeezing "
    "(rule transform)"
)

with script_logging(snakemake.log[0]) as log:
    params = json.loads(Path(snakemake.input.params).read_text())
    fovs = load_fovs(snakemake.input.fovs)
    files = fov_index(snakemake.input.fovs)
    squeezed = snakemake.input.coords[0] if snakemake.input.coords else None
    coords = (
        read_results(squeezed, ["x", "y"], snakemake.input.fovs, fovs, STALE)
        if squeezed
        else {f: frame[["x", "y"]].to_numpy() for f, frame in fovs.items()}
    )
    labels = {}
    for f in fovs:
        with about(f"FOV {f} ({', '.join(map(str, filter(None, [files[f], squeezed])))})"):
            labels[f] = dbscan_labels(coords[f], params["eps"], params["min_samples"])
    log.info(
        "%s: eps %.3g nm, min_samples %d",
        snakemake.wildcards.method,
        params["eps"],
        params["min_samples"],
    )
    write_per_fov(labels, ["label"], snakemake.output[0])
