"""Rule metrics: per-FOV metrics of every method of a run on the test FOVs (long table)."""

from miro.data.fovs import ground_truth, load_fovs, read_per_fov
from miro.data.split import read_split
from miro.evaluation.metrics import FovRecord, evaluate_fovs
from miro.files import write_csv_atomic
from miro.runlog import script_logging

with script_logging(snakemake.log[0]) as log:
    test = read_split(snakemake.input.split)["test"]
    fovs = load_fovs(snakemake.input.fovs, test)
    labels = {
        method: read_per_fov(path, ["label"])
        for method, path in zip(snakemake.params.methods, snakemake.input.labels, strict=True)
    }
    records = [
        FovRecord(
            dataset=snakemake.wildcards.ds,
            fov=f,
            coords=frame[["x", "y"]].to_numpy(),
            truth=ground_truth(frame, snakemake.params.truth, f"{snakemake.input.fovs} FOV {f}"),
            predictions={m: labels[m][f] for m in labels},
        )
        for f, frame in fovs.items()
    ]
    table = evaluate_fovs(records, progress=True)
    log.info("%d test FOVs evaluated", len(test))
    write_csv_atomic(table, snakemake.output[0])
