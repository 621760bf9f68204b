import pytest

from miro.config import (
    BUILTIN,
    dataset_settings,
    execution_settings,
    resolve_config,
    settings_slice,
)


def _config(**dataset):
    return {"datasets": {"d": dataset}}


def test_benchmark_folder_takes_reference_settings():
    s = dataset_settings(_config(source="benchmark", folder="Multiple Blinking - Scenario 5"), "d")
    assert s["model"]["steps"] == 10
    assert s["model"]["radius"] == pytest.approx(0.1)
    assert s["augment"]["n_graphs"] == 500
    assert s["train_fovs"] == [25, 27, 32]
    assert s["dbscan"]["baseline"] == "published"
    assert s["published_dbscan"] == {"eps": 35.0, "min_samples": 34}
    assert s["paper_name"] == "Multiple Blinking - Scenario 5"


def test_precedence_defaults_then_dataset_and_null_keeps_reference():
    config = {
        "defaults": {"model": {"width": 32, "steps": None}, "train": {"epochs": 2}},
        "datasets": {
            "d": {
                "source": "benchmark",
                "folder": "Ground Truth - Scenario 8",
                "settings": {"train": {"epochs": 5}},
            }
        },
    }
    s = dataset_settings(config, "d")
    assert s["model"]["width"] == 32
    assert s["model"]["steps"] == 12  # null in the config keeps the per-folder value
    assert s["train"]["epochs"] == 5
    assert s["train"]["lr"] == BUILTIN["train"]["lr"]


def test_simulated_dataset_uses_optuna_baseline_and_random_split():
    s = dataset_settings(_config(source="simulate", family="rings", n_fovs=10), "d")
    assert s["dbscan"]["baseline"] == "optuna"
    assert s["train_fovs"] is None
    assert s["paper_name"] == "d"


def test_published_baseline_without_benchmark_is_an_error():
    config = _config(
        source="simulate",
        family="rings",
        n_fovs=10,
        settings={"dbscan": {"baseline": "published"}},
    )
    with pytest.raises(ValueError, match="published"):
        dataset_settings(config, "d")


def test_other_training_size_drops_paper_fovs():
    config = _config(
        source="benchmark", folder="Ground Truth - Scenario 8", settings={"n_train": 2}
    )
    assert dataset_settings(config, "d")["train_fovs"] is None


def test_resolve_config_fills_top_level_defaults():
    out = resolve_config(_config(source="simulate", family="rings", n_fovs=10))
    assert out["seed"] == 0 and out["device"] == "auto"
    assert out["benchmark"]["local_dir"] is None
    assert "3b0580b428ae316207cc2fb1ee89345851fc53ed" in out["benchmark"]["base_url"]


def test_settings_slice_keeps_only_the_named_keys_in_place():
    settings = resolve_config(
        {"datasets": {"R": {"source": "simulate", "family": "rings", "n_fovs": 5}}}
    )["datasets"]["R"]
    part = settings_slice(settings, ["model.radius", "train", "n_train"])
    assert part == {
        "model": {"radius": settings["model"]["radius"]},
        "train": settings["train"],
        "n_train": settings["n_train"],
    }
    part["train"]["lr"] = 1.0  # a copy: the resolved settings are untouched
    assert settings["train"]["lr"] != 1.0
    with pytest.raises(KeyError):
        settings_slice(settings, ["model.depth"])


def test_execution_settings_default_and_follow_the_config():
    assert execution_settings({})["device"] == "auto"
    assert execution_settings({})["benchmark"]["retries"] >= 1
    given = execution_settings({"device": "cpu", "benchmark": {"local_dir": "/data"}})
    assert given["device"] == "cpu" and given["benchmark"]["local_dir"] == "/data"
    assert given["benchmark"]["base_url"].startswith("https://")
