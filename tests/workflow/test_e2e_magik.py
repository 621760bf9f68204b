"""End to end: the MAGIK-S comparison (Supp. Table 6) of the tiny config's run."""

from __future__ import annotations

import pandas as pd

from miro.evaluation.metrics import METRICS

UNBOUNDED = {"RMSRE_N", "RMSE_xy", "RMSE_xy_published"}


def test_magik_table_has_magik_s_and_miro_rows_in_range(tiny_run):
    table = pd.read_csv(tiny_run / "results" / "ablations" / "magik.csv")
    s8 = table[table["dataset"] == "S8"].set_index("method")
    assert {"MAGIK-S", "MIRO", "DBSCAN"} <= set(s8.index)
    assert s8["n"].eq(3).all()  # the 3 test FOVs of S8, the same for every method
    for method in ("MAGIK-S", "MIRO"):
        assert s8.loc[method, "train_seconds"] > 0
        assert s8.loc[method, "parameters"] > 0
    for metric in METRICS:
        values = s8[metric].dropna()
        low, high = (0.0, float("inf")) if metric in UNBOUNDED else (-1.0, 1.0)
        assert values.between(low, high).all(), (metric, values.tolist())
    assert "MAGIK-S" in (tiny_run / "results" / "ablations" / "magik.md").read_text()
