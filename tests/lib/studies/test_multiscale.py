"""Tests for miro.studies.multiscale: level steps and names, the per-level metrics table."""

from __future__ import annotations

import pandas as pd
import pytest

from miro.data.simulate import simulate_fov
from miro.studies.multiscale import level_dataset, level_steps, level_table


@pytest.fixture(scope="module")
def fovs() -> dict[int, pd.DataFrame]:
    return {i: simulate_fov("multiscale_rings", i, n_rings=(6, 8)) for i in (1, 2, 3)}


def test_level_steps_and_names():
    assert level_steps(3, 5) == {"spots": 2, "rings": 4}
    for k_star in (0, 5):
        with pytest.raises(ValueError, match="k_star"):
            level_steps(k_star, 5)
    assert level_dataset("NPC", "rings") == "NPC rings"
    with pytest.raises(ValueError, match="unknown level"):
        level_dataset("NPC", "corners")


def test_level_table_names_the_level(fovs):
    long_df = pd.DataFrame(
        {"dataset": "NPC", "fov": [1, 1], "method": ["DBSCAN", "MIRO"], "metric": "ARI"}
        | {"value": [0.5, 0.75]}
    )
    table = level_table(long_df, "NPC", "rings")
    assert list(table.columns) == ["dataset", "level", "fov", "method", "metric", "value"]
    assert set(table["dataset"]) == {"NPC rings"} and set(table["level"]) == {"rings"}
    assert table["value"].tolist() == [0.5, 0.75] and set(long_df["dataset"]) == {"NPC"}
