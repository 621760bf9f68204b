"""Rule landscape: mean ARI† and JI_c of plain DBSCAN (localizations) and MIRO + DBSCAN
(squeezed localizations) over an eps x min_samples grid on the first test FOVs, with the
parameters the run used; the table and its Supp. Fig. 1-style figure."""

import json

import _miro_path  # noqa: F401  (makes workflow/lib importable as miro)
import pandas as pd

from miro.data.fovs import fov_index, ground_truth, load_fovs
from miro.data.results import read_results
from miro.data.split import read_split
from miro.errors import about
from miro.evaluation.landscape import LandscapeFov, eps_grid, landscape, min_samples_grid
from miro.files import write_csv_atomic
from miro.outputs.study_figures import landscape_figure
from miro.runlog import script_logging

STALE = (
    "the squeezed coordinates are stale (written for other FOV files): re-run squeezing "
    "(rule transform)"
)

with script_logging(snakemake.log[0]) as log:
    grid, ds = snakemake.params.grid, snakemake.wildcards.ds
    settings = grid["landscape"]
    test = sorted(read_split(snakemake.input.split)["test"])
    fov_ids = test[: settings["fovs"]] if settings["fovs"] else test
    fovs = load_fovs(snakemake.input.fovs, fov_ids)
    files = fov_index(snakemake.input.fovs)
    squeezed = read_results(snakemake.input.coords, ["x", "y"], snakemake.input.fovs, fovs, STALE)
    eps = eps_grid(grid["dbscan"]["eps_nm"], settings["eps_points"])
    min_samples = min_samples_grid(grid["dbscan"]["min_samples"], settings["min_samples_points"])
    tables = []
    for method, path in zip(snakemake.params.methods, snakemake.input.params, strict=True):
        with open(path, encoding="utf-8") as f:
            chosen = json.load(f)
        records = [
            LandscapeFov(
                clustered=squeezed[f] if method == "MIRO" else frame[["x", "y"]].to_numpy(),
                coords=frame[["x", "y"]].to_numpy(),
                truth=ground_truth(frame, snakemake.params.truth, f"{files[f]} FOV {f}"),
            )
            for f, frame in fovs.items()
        ]
        with about(f"{ds} {method} landscape on FOVs {fov_ids} ({snakemake.input.fovs})"):
            tables.append(landscape(records, eps, min_samples, chosen, method))
        log.info(
            "%s: %d cells x %d FOVs %s; chosen eps %.3g nm, min_samples %d",
            method,
            len(eps) * len(min_samples),
            len(records),
            fov_ids,
            chosen["eps"],
            chosen["min_samples"],
        )
    table = pd.concat(tables, ignore_index=True)
    write_csv_atomic(table, snakemake.output.csv)
    landscape_figure(table, f"{ds} (preset: {snakemake.params.preset})", snakemake.output.png)
