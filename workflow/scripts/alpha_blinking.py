"""Rule alpha_blinking_ablation: compression index of MIRO on blinking data against depth, one
line per loss weight alpha (Supp. Fig. 3)."""

import _miro_path  # noqa: F401  (makes workflow/lib importable as miro)
import pandas as pd

from miro.files import write_csv_atomic
from miro.runlog import script_logging
from miro.studies.ablations import ALPHA_BLINKING_COLUMNS, collect_runs, plot_alpha_blinking

with script_logging(snakemake.log[0]) as log:
    runs = collect_runs([pd.read_csv(path) for path in snakemake.input], ALPHA_BLINKING_COLUMNS)
    log.info("%d trained networks, alpha %s", len(runs), sorted(runs["alpha"].unique()))
    write_csv_atomic(runs, snakemake.output.csv)
    plot_alpha_blinking(runs, snakemake.output.png, snakemake.output.pdf, snakemake.params.default)
