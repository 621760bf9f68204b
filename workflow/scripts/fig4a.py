"""Rule fig4a: JI_c against the distance of adjacent cluster pairs (paper Fig. 4a)."""

import _miro_path  # noqa: F401  (makes workflow/lib importable as miro)
import pandas as pd

from miro.outputs.study_figures import fig4a
from miro.runlog import script_logging

with script_logging(snakemake.log[0]) as log:
    scan, summary = pd.read_csv(snakemake.input.scan), pd.read_csv(snakemake.input.summary)
    title = f"{snakemake.wildcards.ds}: adjacent cluster pairs"
    fig4a(scan, summary, title, snakemake.output.png, snakemake.output.pdf)
    log.info("%d distances, %d FOVs each", len(summary), scan["fov"].nunique())
