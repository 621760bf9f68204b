"""Tests for miro.studies.experiments: the experiments section gives its targets (its checks:
tests/lib/test_config.py)."""

from __future__ import annotations

from miro.config import resolve_config
from miro.studies.experiments import experiment_targets

CONFIG = {
    "datasets": {
        "Shapes": {"source": "simulate", "family": "multishape", "n_fovs": 4, "table1": False},
        "NPC": {
            "source": "simulate",
            "family": "multiscale_rings",
            "n_fovs": 4,
            "table1": False,
            "settings": {"train": {"k_star": 3}},
        },
        "Pairs": {"source": "simulate", "family": "adjacent_pairs", "n_fovs": 4},
    },
    "experiments": {
        "shapes": ["Shapes"],
        "multiscale": ["NPC"],
        "adjacent": {"dataset": "Pairs", "distances": [1, 2], "n_fovs": 3},
    },
}


def test_targets_of_every_experiment():
    settings = resolve_config(CONFIG)
    targets = experiment_targets(settings, "out")
    for expected in (
        "out/Shapes/miro/shapes/confusion.csv",
        "out/figures/fig3_Shapes.pdf",
        "out/NPC/multiscale/stats.csv",
        "out/figures/fig5_NPC.png",
        "out/adjacent/Pairs/jic.csv",
        "out/figures/fig4a_Pairs.png",
    ):
        assert expected in targets
    assert len(targets) == len(set(targets)) == 11


def test_no_section_no_targets():
    settings = resolve_config({"datasets": CONFIG["datasets"]})
    assert experiment_targets(settings) == []
    assert resolve_config(CONFIG)["datasets"]["Pairs"]["table1"] is True
