"""Rule steps_ablation: the recurrent-steps table and figure (Supp. Fig. 2)."""

import _miro_path  # noqa: F401  (makes workflow/lib importable as miro)
import pandas as pd

from miro.files import write_csv_atomic
from miro.runlog import script_logging
from miro.studies.ablations import STEPS_COLUMNS, collect_runs, plot_steps_ablation

with script_logging(snakemake.log[0]) as log:
    steps = collect_runs([pd.read_csv(path) for path in snakemake.input], STEPS_COLUMNS)
    log.info("%d trained networks", len(steps))
    write_csv_atomic(steps, snakemake.output.csv)
    plot_steps_ablation(steps, snakemake.output.png, snakemake.output.pdf)
