"""Tests for miro.studies.experiments: the experiments section is checked and gives its targets."""

from __future__ import annotations

import copy

import pytest

from miro.config import resolve_config
from miro.studies.experiments import check_experiments, experiment_targets

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


def settings_with(**changes) -> dict:
    config = copy.deepcopy(CONFIG)
    for path, value in changes.items():
        *keys, last = path.split("__")
        node = config
        for key in keys:
            node = node[key]
        node[last] = value
    return resolve_config(config)


def test_targets_of_every_experiment():
    settings = resolve_config(CONFIG)
    check_experiments(settings)
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
    check_experiments(settings)
    assert experiment_targets(settings) == []
    assert resolve_config(CONFIG)["datasets"]["Pairs"]["table1"] is True


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"experiments__shapes": ["Nope"]}, "Nope"),
        ({"datasets__NPC__table1": True}, "table1: false"),
        ({"datasets__NPC__settings": {}}, "k_star"),
        ({"experiments__adjacent": {"dataset": "Shapes", "distances": [1], "n_fovs": 2}}, "family"),
    ],
)
def test_misfit_datasets_are_named(change, message):
    with pytest.raises(ValueError, match=message):
        check_experiments(settings_with(**change))
