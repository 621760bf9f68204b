"""End to end: the width and loss-weight ablations (Supp. Tables 8, 9) and alpha on blinking data
(Supp. Fig. 3) of the tiny config, from the session's tiny run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from PIL import Image
from workflow_run import TINY

from miro.config import resolve_config
from miro.core.checkpoint import load_checkpoint
from miro.evaluation.metrics import METRICS
from miro.studies.ablations import STEPS_DATASET, variant_run, weight_name

CONFIG = yaml.safe_load(TINY.read_text())
SETTINGS = resolve_config(CONFIG)
ABLATIONS = CONFIG["ablations"]


def assert_valid_metrics(table: pd.DataFrame) -> None:
    """Table 1 metrics in their ranges, F1 (Shapes has a class head) in [0, 1]."""
    assert (table["n"] > 0).all()
    for metric in METRICS:
        values = table[metric].dropna()
        assert len(values) > 0, metric
        if metric.startswith("RMS"):
            assert (values >= 0).all(), (metric, values.tolist())
        else:
            assert values.between(-1, 1).all(), (metric, values.tolist())
    scores = table[[c for c in table.columns if c.startswith("F1")]]
    assert {"F1", "F1_spot", "F1_ellipse"} <= set(scores.columns)
    assert ((scores >= 0) & (scores <= 1) | scores.isna()).all().all()
    assert (table["train_seconds"] > 0).all()


def checkpoint(workdir: Path, ds: str, **changes: float) -> dict:
    run = variant_run(SETTINGS["datasets"][ds], **changes)
    return load_checkpoint(workdir / "results" / ds / run / "model.pt").payload


def test_width_table(tiny_run):
    wanted = ABLATIONS["width"]
    table = pd.read_csv(tiny_run / "results" / "ablations" / "width.csv")
    assert table["width"].tolist() == wanted["widths"]
    assert_valid_metrics(table)
    assert table.sort_values("width")["parameters"].is_monotonic_increasing
    assert table["parameters"].nunique() == len(table)
    for width in wanted["widths"]:
        assert checkpoint(tiny_run, wanted["dataset"], width=width)["model"]["width"] == width
    markdown = (tiny_run / "results" / "ablations" / "width.md").read_text()
    assert "Supplementary Table 8" in markdown and "preset: tiny" in markdown and "±" in markdown


def test_loss_weights_table(tiny_run):
    wanted = ABLATIONS["loss_weights"]
    table = pd.read_csv(tiny_run / "results" / "ablations" / "loss_weights.csv")
    expected = [("alpha", float(a)) for a in wanted["alpha"]]
    expected += [("beta", float(b)) for b in wanted["beta"]]
    assert list(zip(table["weight"], table["value"], strict=True)) == expected
    assert_valid_metrics(table)
    assert table["parameters"].nunique() == 1  # the width stays the dataset's
    own = SETTINGS["datasets"][wanted["dataset"]]["train"]
    for weight, value in expected:
        trained = checkpoint(tiny_run, wanted["dataset"], **{weight: value})["train"]
        assert trained[weight] == value
        other = "beta" if weight == "alpha" else "alpha"
        assert trained[other] == own[other]
    markdown = (tiny_run / "results" / "ablations" / "loss_weights.md").read_text()
    assert "Supplementary Table 9" in markdown and "| α |" in markdown and "| β |" in markdown


def test_alpha_on_blinking_data_reuses_the_steps_runs(tiny_run):
    steps, wanted = ABLATIONS["steps"], ABLATIONS["loss_weights"]["blinking_alpha"]
    default = 10.0  # the steps ablation's alpha (built-in)
    table = pd.read_csv(tiny_run / "results" / "ablations" / "alpha_blinking.csv")
    assert set(table["alpha"]) == {float(a) for a in wanted} | {default}
    for _, group in table.groupby("alpha"):
        assert sorted(group["depth"]) == sorted(steps["depths"] * steps["repeats"])
    assert np.isfinite(table["compression_index"]).all() and (table["compression_index"] <= 1).all()
    # alpha = default: the steps ablation's own MIRO runs (same files, same numbers)
    miro = pd.read_csv(tiny_run / "results" / "ablations" / "steps.csv").query(
        "architecture == 'miro'"
    )
    reused = table[table["alpha"] == default]
    columns = ["depth", "repeat", "compression_index"]
    pd.testing.assert_frame_equal(
        reused[columns].reset_index(drop=True), miro[columns].reset_index(drop=True)
    )
    for alpha in table["alpha"].unique():
        run = f"miro_a{weight_name(alpha)}_L{steps['depths'][0]}_r0"
        checkpoint = load_checkpoint(tiny_run / "results" / STEPS_DATASET / run / "model.pt")
        assert checkpoint.train["alpha"] == alpha
    with Image.open(tiny_run / "results" / "ablations" / "alpha_blinking.png") as image:
        assert image.size[0] >= 600 and image.size[1] > 300
    assert (tiny_run / "results" / "ablations" / "alpha_blinking.pdf").read_bytes()[:4] == b"%PDF"
