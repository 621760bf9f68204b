"""Rule cluster: DBSCAN labels (0 = noise) of every FOV, on raw or MIRO-squeezed coordinates."""

import json
from pathlib import Path

from miro.data.fovs import load_fovs, read_per_fov, write_per_fov
from miro.evaluation.dbscan import dbscan_labels
from miro.runlog import script_logging

with script_logging(snakemake.log[0]) as log:
    params = json.loads(Path(snakemake.input.params).read_text())
    fovs = load_fovs(snakemake.input.fovs)
    coords = (
        read_per_fov(snakemake.input.coords[0], ["x", "y"])
        if snakemake.input.coords
        else {f: frame[["x", "y"]].to_numpy() for f, frame in fovs.items()}
    )
    labels = {f: dbscan_labels(coords[f], params["eps"], params["min_samples"]) for f in fovs}
    log.info(
        "%s: eps %.3g nm, min_samples %d",
        snakemake.wildcards.method,
        params["eps"],
        params["min_samples"],
    )
    write_per_fov(labels, ["label"], snakemake.output[0])
