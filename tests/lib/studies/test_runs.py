"""Tests for miro.studies.runs: every model of a dataset is a run with one path scheme."""

from __future__ import annotations

from miro.config import resolve_config
from miro.studies.ablations import STEPS_DATASET, steps_data_settings
from miro.studies.runs import MAIN, dataset_runs, imports_published, run_dir, trained_runs

CONFIG = {
    "datasets": {
        "S8": {"source": "simulate", "family": "benchmark", "params": {"scenario": 8}},
        "Shapes": {
            "source": "simulate",
            "family": "multishape",
            "params": {"shapes": ["spot", "ellipse"]},
            "table1": False,
            "settings": {"model": {"width": 8}},
        },
        "NPC": {
            "source": "simulate",
            "family": "multiscale_rings",
            "table1": False,
            "settings": {"model": {"steps": 6}, "train": {"k_star": 4}},
        },
    },
    "experiments": {"multiscale": ["NPC"]},
    "ablations": {
        "steps": {"depths": [2], "repeats": 1},
        "width": {"dataset": "Shapes", "widths": [4, 8]},
        "loss_weights": {"dataset": "Shapes", "alpha": [0], "beta": [], "blinking_alpha": []},
    },
}


def data_of(config):
    settings = resolve_config(config)
    data = dict(settings["datasets"])
    if "steps" in config.get("ablations", {}):
        data[STEPS_DATASET] = steps_data_settings(settings["ablations"]["steps"])
    return settings, data


def runs_of(config):
    return dataset_runs(*data_of(config))


def test_every_dataset_has_its_own_miro_run():
    runs = runs_of(CONFIG)
    for ds in CONFIG["datasets"]:
        main = runs[ds][MAIN]
        assert main.model_of == MAIN and main.train == {} and main.step == -1
        assert main.truth == "index" and main.methods == ("DBSCAN", "MIRO")
    assert MAIN not in runs[STEPS_DATASET]  # the steps data only train the ablation's networks
    assert run_dir("results", "S8", MAIN) == "results/S8/miro"


def test_multiscale_levels_are_runs_of_the_main_model():
    runs = runs_of(CONFIG)["NPC"]
    spots, rings = runs["spots"], runs["rings"]
    assert spots.model_of == rings.model_of == MAIN and spots.train is rings.train is None
    assert (spots.step, spots.truth) == (3, "index")  # step k* - 1
    assert (rings.step, rings.truth) == (5, "index_coarse")  # the last step


def test_ablation_variants_train_their_own_model_once_per_setting():
    runs = runs_of(CONFIG)["Shapes"]
    variants = {name: run for name, run in runs.items() if name != MAIN}
    # width 8 with alpha 10 is requested by both ablations: one run
    assert set(variants) == {"w4_a10_b0.15", "w8_a10_b0.15", "w8_a0_b0.15"}
    for name, run in variants.items():
        assert run.model_of == name and run.methods == ("MIRO",)
    assert variants["w4_a10_b0.15"].train == {"width": 4, "alpha": 10.0}
    assert variants["w8_a0_b0.15"].train == {"width": 8, "alpha": 0.0}


def test_steps_networks_are_runs_of_the_steps_data():
    runs = runs_of(CONFIG)[STEPS_DATASET]
    assert set(runs) == {"miro_a10_L2_r0", "mpnn_a10_L2_r0"}
    run = runs["mpnn_a10_L2_r0"]
    assert run.train == {"architecture": "mpnn", "steps": 2, "seed": 0, "alpha": 10.0}
    assert run.methods == () and run.labels["architecture"] == "mpnn"
    assert STEPS_DATASET not in runs_of({"datasets": CONFIG["datasets"]})


def test_trained_runs_list_each_trained_model_once_without_published_weights():
    published = {
        "source": "benchmark",
        "folder": "Ground Truth - Scenario 8",
        "settings": {"model": {"source": "published"}},
    }
    config = CONFIG | {"datasets": CONFIG["datasets"] | {"GT8": published}}
    settings, data = data_of(config)
    runs = dataset_runs(settings, data)
    assert imports_published(data, "GT8", MAIN)
    assert not imports_published(data, "S8", MAIN) and not imports_published(data, "GT8", "x")
    trained = trained_runs(runs, data, [*config["datasets"], STEPS_DATASET])
    shapes = ["w4_a10_b0.15", "w8_a10_b0.15", "w8_a0_b0.15"]
    steps = ["miro_a10_L2_r0", "mpnn_a10_L2_r0"]
    assert trained == [  # NPC's levels evaluate its MIRO; GT8 imports the authors' weights
        ("S8", MAIN),
        ("Shapes", MAIN),
        *(("Shapes", name) for name in shapes),
        ("NPC", MAIN),
        *((STEPS_DATASET, name) for name in steps),
    ]
    assert trained_runs(runs, data, ["S8"]) == [("S8", MAIN)]


def test_the_published_multiscale_model_squeezes_spots_at_step_9():
    npc = {"source": "simulate", "family": "npc", "n_fovs": 4, "table1": False}
    model = {"source": "published", "published": "multiscale/models/checkpoint.pt"}
    config = {
        "datasets": {"NPC": {**npc, "settings": {"model": model}}},
        "experiments": {"multiscale": ["NPC"]},
    }
    runs = runs_of(config)["NPC"]  # k* 10 of 20 steps, from resources/published_models.tsv
    assert (runs["spots"].step, runs["rings"].step) == (9, 19)
    assert runs["spots"].model_of == runs["rings"].model_of == MAIN
    assert (runs["spots"].truth, runs["rings"].truth) == ("index", "index_coarse")
