"""Rule tables: Table 1 replica and paired statistics, over every Table 1 dataset (the paper's
and the user's own; the comparison with the paper is rule scorecard's).

Duplicated test FOVs are counted once (Table 1 and the statistics) and every flagged FOV is
named in the tables' notes (miro.outputs.tables.flag_notes)."""

import _miro_path  # noqa: F401  (makes workflow/lib importable as miro)
import pandas as pd

from miro.evaluation.stats import paired_tests
from miro.outputs.tables import flag_notes, table1, write_stats, write_table1
from miro.runlog import script_logging

with script_logging(snakemake.log[0]) as log:
    out, preset = snakemake.output, snakemake.params.preset
    long_df = pd.concat([pd.read_csv(path) for path in snakemake.input], ignore_index=True)
    table = table1(long_df)
    notes = flag_notes(table)
    for note in notes:
        log.info("%s", note)
    write_table1(table, out.table1_csv, out.table1_md, out.table1_tex, preset=preset)
    stats = paired_tests(long_df)
    write_stats(stats, out.stats, out.stats_md, preset=preset, notes=notes)
