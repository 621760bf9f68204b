"""Rule metrics: per-FOV metrics of every method of a run on the test FOVs (long table, with
flags)."""

import _miro_path  # noqa: F401  (makes workflow/lib importable as miro)

from miro.data.fovs import fov_index, ground_truth, load_fovs
from miro.data.results import read_results
from miro.data.split import read_split
from miro.evaluation.metrics import FovRecord, evaluate_fovs
from miro.files import write_csv_atomic
from miro.runlog import script_logging

STALE = "the labels are stale (written for other FOV files): re-run clustering (rule cluster)"

with script_logging(snakemake.log[0]) as log:
    test = read_split(snakemake.input.split)["test"]
    fovs = load_fovs(snakemake.input.fovs, test)
    files = fov_index(snakemake.input.fovs)
    methods = dict(zip(snakemake.params.methods, snakemake.input.labels, strict=True))
    labels = {
        method: read_results(path, ["label"], snakemake.input.fovs, fovs, STALE)
        for method, path in methods.items()
    }
    records = [
        FovRecord(
            dataset=snakemake.wildcards.ds,
            fov=f,
            coords=frame[["x", "y"]].to_numpy(),
            truth=ground_truth(frame, snakemake.params.truth, f"{snakemake.input.fovs} FOV {f}"),
            predictions={m: labels[m][f] for m in labels},
            source=", ".join([str(files[f]), *(f"{m} labels {p}" for m, p in methods.items())]),
        )
        for f, frame in fovs.items()
    ]
    table = evaluate_fovs(records, progress=True)
    flagged = table.drop_duplicates(["fov", "method"])
    log.info(
        "%d test FOVs evaluated; %d flagged duplicate; degenerate FOV x method: %d",
        len(test),
        flagged.drop_duplicates("fov")["duplicate_of"].notna().sum(),
        (flagged["degenerate"] != "").sum(),
    )
    write_csv_atomic(table, snakemake.output[0])
