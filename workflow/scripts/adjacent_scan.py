"""Rule adjacent_scan: JI_c of DBSCAN and MIRO + DBSCAN on simulated cluster pairs at every
configured distance (paper Fig. 4a), with the dataset's model and DBSCAN parameters."""

import json
from pathlib import Path

import _miro_path  # noqa: F401  (makes workflow/lib importable as miro)

from miro.config import execution_settings
from miro.core.checkpoint import load_checkpoint
from miro.files import write_csv_atomic
from miro.runlog import script_logging
from miro.studies.adjacent import jaccard_scan, summarise

DEVICE = execution_settings(snakemake.config)["device"]

with script_logging(snakemake.log[0]) as log:
    checkpoint = load_checkpoint(snakemake.input.model)
    model = checkpoint.model
    dbscan = {
        method: json.loads(Path(path).read_text())
        for method, path in zip(snakemake.params.methods, snakemake.input.params, strict=True)
    }
    scan = jaccard_scan(
        model,
        checkpoint.radius,
        snakemake.params.settings["params"],
        snakemake.params.distances,
        snakemake.params.n_fovs,
        snakemake.params.seed,
        dbscan,
        device=DEVICE,
    )
    summary = summarise(scan)
    log.info("JI_c per distance:\n%s", summary.to_string())
    write_csv_atomic(scan, snakemake.output.scan)
    write_csv_atomic(summary, snakemake.output.summary)
