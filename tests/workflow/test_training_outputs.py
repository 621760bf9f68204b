"""The default target plots the losses of every trained model once, and of no imported published
model: a dry run of the tiny config with one more dataset using the authors' weights."""

from __future__ import annotations

import re

import yaml
from workflow_run import TINY, snakemake

PUBLISHED = {
    "source": "benchmark",
    "folder": "Ground Truth - Scenario 8",
    "table1": False,
    "settings": {"model": {"source": "published"}},
}
#: every model the tiny config trains: each dataset's own MIRO, the Shapes width / loss-weight
#: variants (width 8 with the dataset's alpha once), MAGIK-S on S8; NPC's multiscale levels
#: share its MIRO, the steps ablation's networks are no configured dataset's
TRAINED = {
    *(f"{ds}_miro" for ds in ("S8", "Rings", "Shapes", "NPC", "Pairs", "S8-1shot")),
    *(f"Shapes_{run}" for run in ("w4_a10_b0.15", "w8_a10_b0.15", "w8_a0_b0.15", "w8_a10_b0.1")),
    "S8_magik",
}


def test_one_loss_curve_per_trained_model_and_none_for_published_weights(tmp_path):
    config = yaml.safe_load(TINY.read_text())
    config["datasets"]["GT8"] = PUBLISHED
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    run = snakemake(tmp_path, "-n", "--configfile", str(path), "--cores", "1")
    assert run.returncode == 0, run.stderr[-4000:]
    output = run.stdout + run.stderr
    curves = re.findall(r"output: results/figures/losses/(\S+)\.png$", output, flags=re.M)
    assert sorted(curves) == sorted(TRAINED)  # each model once
    table = re.search(r"^rule training_table:\n    input: (.*)$", output, flags=re.M)
    assert table is not None, "the training table is part of the default target"
    losses = {p for p in table.group(1).split(", ") if p.endswith("losses.csv")}
    assert len(losses) == len(TRAINED) and not any("GT8" in p for p in losses)
    assert "results/GT8/miro/published.pt" in output  # imported, not trained
    assert "results/GT8/miro/model.pt" not in output
