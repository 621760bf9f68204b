"""Rules simulate_acquisition (an example input, ThunderSTORM-style CSV) and apply (MIRO +
DBSCAN and plain DBSCAN on one localization file: labels, cluster tables, map, histograms)."""

import json
from pathlib import Path

import _miro_path  # noqa: F401  (makes workflow/lib importable as miro)

from miro.applications.apply import apply_to_file, simulate_acquisition
from miro.config import execution_settings
from miro.files import write_csv_atomic
from miro.runlog import script_logging

DEVICE = execution_settings(snakemake.config)["device"]

with script_logging(snakemake.log[0]) as log:
    if snakemake.rule == "simulate_acquisition":
        example = snakemake.params.example
        seed = [snakemake.params.seed, int(snakemake.wildcards.i)]
        table = simulate_acquisition(seed, example["simulate"], **(example.get("params") or {}))
        write_csv_atomic(table, snakemake.output[0])
        log.info("simulated %s acquisition: %d localizations", example["simulate"], len(table))
    else:
        dbscan = {m: json.loads(Path(snakemake.input[m]).read_text()) for m in ("miro", "dbscan")}
        apply_to_file(
            snakemake.input.localizations,
            snakemake.input.model,
            miro_dbscan=dbscan["miro"],
            baseline_dbscan=dbscan["dbscan"],
            out_dir=Path(snakemake.output.labels).parent,
            fmt=snakemake.params.format,
            columns=snakemake.params.columns,
            window_nm=snakemake.params.window_nm,
            overlap_nm=snakemake.params.overlap_nm,
            device=DEVICE,
        )
