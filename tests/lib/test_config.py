"""Tests for miro.config: defaults and precedence, the schema and every cross-field check, each
message naming the key path in one short line."""

from __future__ import annotations

import copy
import json

import pytest
import yaml

from miro.config import (
    BUILTIN,
    LOCAL,
    MAX_PROBLEMS,
    REPO,
    TOP_LEVEL,
    ConfigError,
    authors_dbscan,
    benchmark_files,
    dataset_settings,
    execution_settings,
    load_settings,
    main,
    published_import,
    published_needs,
    read_config,
    resolve_config,
    schema,
    settings_slice,
)
from miro.data.split import split_fovs
from miro.evaluation.tuning import OBJECTIVE

GT8 = "Ground Truth - Scenario 8"
GT8_TRAIN = [28, 32, 48]  # resources/benchmark_settings.csv


def _config(**dataset):
    return {"datasets": {"d": dataset}}


def rings(**changes) -> dict:
    """A valid config with one simulated dataset of 6 FOVs; ``changes`` update its entry."""
    return {
        "datasets": {"Rings": {"source": "simulate", "family": "rings", "n_fovs": 6, **changes}}
    }


def problems(config, source: str = "config.yaml") -> list[str]:
    """The lines of the ConfigError ``config`` raises (each asserted short)."""
    with pytest.raises(ConfigError) as caught:
        load_settings(config, source)
    lines = str(caught.value).splitlines()
    assert all(line.startswith(f"{source}: ") and len(line) < 300 for line in lines), lines
    return lines


def one_problem(config) -> str:
    [line] = problems(config)
    return line


# ------------------------------------------------------------------ resolution and defaults
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
            "d": {"source": "benchmark", "folder": GT8, "settings": {"train": {"epochs": 5}}}
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


def test_other_training_size_drops_paper_fovs():
    config = _config(source="benchmark", folder=GT8, settings={"n_train": 2})
    assert dataset_settings(config, "d")["train_fovs"] is None


def test_dbscan_objective_is_a_metric_or_a_list_defaulting_to_ari():
    """Issue #15: ARI by default (miro.evaluation.tuning.OBJECTIVE), or a list of metrics."""
    assert load_settings(rings())["datasets"]["Rings"]["dbscan"]["objective"] == OBJECTIVE
    for objective in ("JI_c", ["ARI", "AMI"]):
        config = rings(settings={"dbscan": {"objective": objective}})
        assert load_settings(config)["datasets"]["Rings"]["dbscan"]["objective"] == objective


def test_load_settings_fills_top_level_defaults():
    out = load_settings(rings())
    assert out["seed"] == 0 and out["device"] == "auto"
    assert out["benchmark"]["local_dir"] is None
    assert "3b0580b428ae316207cc2fb1ee89345851fc53ed" in out["benchmark"]["base_url"]
    assert out == resolve_config(rings())


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
    # the order of keys in a config file does not change a rule's params
    shuffled = {
        "params": {"scenario": 8, "blinking": False},
        "model": {"b": 1, "a": [{"z": 0, "y": 1}]},
    }
    assert repr(settings_slice(shuffled, ["params", "model"])) == repr(
        {"model": {"a": [{"y": 1, "z": 0}], "b": 1}, "params": {"blinking": False, "scenario": 8}}
    )


def test_execution_settings_default_and_follow_the_config():
    assert execution_settings({})["device"] == "auto"
    assert execution_settings({})["fast_training"] is False
    assert execution_settings({"fast_training": True})["fast_training"] is True
    assert execution_settings({})["benchmark"]["retries"] >= 1
    given = execution_settings({"device": "cpu", "benchmark": {"local_dir": "/data"}})
    assert given["device"] == "cpu" and given["benchmark"]["local_dir"] == "/data"
    assert given["benchmark"]["base_url"].startswith("https://")


def test_cache_dir_is_an_execution_setting_and_must_be_a_folder(tmp_path):
    assert execution_settings({})["cache_dir"] is None  # $MIRO_CACHE or the OS cache
    assert execution_settings({"cache_dir": "/c"})["cache_dir"] == "/c"
    assert load_settings(rings() | {"cache_dir": str(tmp_path)})["cache_dir"] == str(tmp_path)
    (tmp_path / "file").write_text("x")
    assert problems(rings() | {"cache_dir": str(tmp_path / "file")}) == [
        f"config.yaml: cache_dir: {tmp_path / 'file'} is a file, not a folder"
    ]


def test_local_copies_fills_the_local_dirs_that_are_not_set():
    given = execution_settings({"local_copies": "/shared", "published": {"local_dir": "/w"}})
    assert given["benchmark"]["local_dir"] == "/shared/benchmark"
    assert given["published"]["local_dir"] == "/w"  # an explicit folder wins
    assert execution_settings({"local_copies": "/shared"})["published"]["local_dir"] == (
        "/shared/weights"
    )
    config = _config(source="benchmark", folder="Ground Truth - Scenario 8")
    config["local_copies"] = "/nowhere"
    assert problems(config) == [
        "config.yaml: benchmark.local_dir: /nowhere/benchmark is not a folder",
        "config.yaml: published.local_dir: /nowhere/weights is not a folder",
    ]


def _compare_defaults(node: dict, value, path: str, required: bool) -> None:
    if "default" in node:
        assert node["default"] == value, f"{path}: schema default {node['default']!r} != {value!r}"
    elif isinstance(value, dict) and "properties" in node:
        assert set(value) == set(node["properties"]), path
        for key, sub in value.items():
            _compare_defaults(
                node["properties"][key], sub, f"{path}.{key}", key in node.get("required", [])
            )
    else:  # no default: a key the config must give when its section is there
        assert required and not value, f"{path}: no schema default for {value!r}"


def test_schema_defaults_agree_with_the_defaults_block():
    spec = schema()
    _compare_defaults(spec["$defs"]["settings"], BUILTIN, "settings", False)
    top = {k: v for k, v in spec["properties"].items() if k not in ("datasets", "defaults")}
    _compare_defaults({"properties": top}, TOP_LEVEL, "", False)


def test_schema_defaults_of_local_datasets_agree_with_the_defaults_block():
    entry = schema()["properties"]["datasets"]["additionalProperties"]["properties"]
    assert {key: entry[key]["default"] for key in LOCAL} == LOCAL


def _undocumented(node: dict, path: str) -> list[str]:
    out = []
    for key, sub in (node.get("properties") or {}).items():
        out += [] if "description" in sub else [f"{path}.{key}"]
        out += _undocumented(sub, f"{path}.{key}")
    if isinstance(node.get("additionalProperties"), dict):
        out += _undocumented(node["additionalProperties"], f"{path}.<name>")
    return out


def test_every_key_is_documented_in_the_schema():
    spec = schema()
    assert _undocumented(spec, "") + _undocumented(spec["$defs"]["settings"], "settings") == []


@pytest.mark.parametrize("path", ["config.yaml", "presets/paper.yaml", "presets/published.yaml"])
def test_presets_are_valid(path):
    settings = load_settings(read_config(REPO / path), path)
    assert settings["datasets"]


# --------------------------------------------------------------------------------- schema
def test_unknown_key_names_its_path_and_the_near_key_not_the_schema():
    config = rings(settings={"dbscan": {"epsnm": [1, 2]}})
    line = one_problem(config)
    assert line == (
        "config.yaml: datasets.Rings.settings.dbscan.epsnm: unknown key (did you mean 'eps_nm'?)"
    )
    assert "allowed: preset" in one_problem({**rings(), "zzz": 1})


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"source": "simulated"}, "datasets.Rings.source: 'simulated' is not one of benchmark"),
        ({"n_fovs": 2}, "datasets.Rings.n_fovs: 2 must be >= 4"),
        ({"n_fovs": "six"}, "datasets.Rings.n_fovs: 'six' is not of type integer"),
        ({"family": None}, "datasets.Rings.family: None is not of type string"),
        ({"settings": {"dbscan": {"eps_nm": [5]}}}, "eps_nm: [5] needs at least 2 items"),
        (
            {"settings": {"dbscan": {"objective": "F1"}}},
            "dbscan.objective: 'F1' is not one of ARI, ARI_dagger, AMI, ARI_c, IoU, JI_c",
        ),
        (
            {"settings": {"dbscan": {"objective": ["ARI", "F1"]}}},
            "dbscan.objective[1]: 'F1' is not one of ARI, ARI_dagger",
        ),
        ({"settings": {"dbscan": {"objective": []}}}, "objective: [] needs at least 1 items"),
        (
            {"settings": {"dbscan": {"objective": ["AMI", "AMI"]}}},
            "objective: ['AMI', 'AMI'] has repeated items",
        ),
    ],
)
def test_schema_violations_are_one_short_line(change, expected):
    assert expected in one_problem(rings(**change))


def test_missing_keys_are_named():
    assert one_problem({"datasets": {"B": {"source": "benchmark"}}}).endswith(
        "datasets.B: missing required key 'folder'"
    )
    assert "top level: missing required key 'datasets'" in one_problem({"seed": 1})


def test_every_problem_is_listed_up_to_a_limit():
    config = {"datasets": {f"D{i}": {"source": "x"} for i in range(MAX_PROBLEMS + 3)}}
    lines = problems(config)
    assert len(lines) == MAX_PROBLEMS + 1
    assert lines[-1] == "config.yaml: ... and 3 more problems"


# ------------------------------------------------------------------------ dataset checks
def test_reversed_search_ranges_name_where_they_are_set():
    config = rings(settings={"dbscan": {"eps_nm": [200, 150]}})
    config["defaults"] = {"dbscan": {"min_samples": [10, 5]}}
    assert problems(config) == [
        "config.yaml: defaults.dbscan.min_samples: [10, 5] is decreasing",
        "config.yaml: datasets.Rings.settings.dbscan.eps_nm: [200, 150] is not increasing",
    ]
    load_settings(rings(settings={"dbscan": {"min_samples": [5, 5]}}))


def test_published_model_or_dbscan_on_a_simulated_dataset():
    config = {**rings(), "defaults": {"model": {"source": "published"}}}
    line = one_problem(config)
    assert line.startswith("config.yaml: defaults.model.source: 'published' on simulated")
    assert "needs model.published, one of benchmark/models/model_scenario_<N>" in line
    assert "multishape/models/checkpoint.pt" in line
    line = one_problem(rings(settings={"dbscan": {"baseline": "published"}}))
    assert "datasets.Rings.settings.dbscan.baseline: 'published'" in line
    published = {
        "source": "benchmark",
        "folder": GT8,
        "settings": {"model": {"source": "published"}},
    }
    load_settings({"datasets": {"GT8": published}})


def test_dbscan_source_defaults_to_optuna_and_published_needs_a_benchmark_folder():
    gt8 = {"datasets": {"GT8": {"source": "benchmark", "folder": GT8}}}
    assert load_settings(gt8)["datasets"]["GT8"]["dbscan"]["source"] == "optuna"
    gt8["defaults"] = {"dbscan": {"source": "published"}}
    assert load_settings(gt8)["datasets"]["GT8"]["dbscan"]["source"] == "published"
    line = one_problem(rings(settings={"dbscan": {"source": "published"}}))
    assert "datasets.Rings.settings.dbscan.source: 'published' on dataset 'Rings'" in line
    assert "benchmark/metadata.json" in line and "'optuna'" in line
    assert "dbscan.source" in one_problem(rings(settings={"dbscan": {"source": "authors"}}))


def test_training_fovs_must_leave_test_fovs():
    line = one_problem(rings(settings={"n_train": 6}))
    assert line.endswith(
        "datasets.Rings.settings.n_train: 6 training FOVs leave no test FOV of dataset 'Rings' "
        "(6 FOVs)"
    )
    benchmark = {"datasets": {"GT8": {"source": "benchmark", "folder": GT8}}}
    assert sorted(load_settings(benchmark)["datasets"]["GT8"]["train_fovs"]) == GT8_TRAIN
    benchmark["defaults"] = {"n_train": 50}
    assert "defaults.n_train: 50 training FOVs" in one_problem(benchmark)
    assert "(50 FOVs)" in one_problem(benchmark)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"family": "ringz"}, "datasets.Rings.family: 'ringz' is not one of benchmark, c_shaped"),
        ({"params": {"n_ring": 3}}, "datasets.Rings.params: unknown parameter(s) ['n_ring']"),
        ({"params": {"radius": -5}}, "datasets.Rings.params: "),
    ],
)
def test_simulation_family_and_params_are_checked_by_the_simulator(change, expected):
    assert expected in one_problem(rings(**change))


def test_k_star_must_lie_below_the_steps():
    config = rings(table1=False, settings={"model": {"steps": 4}, "train": {"k_star": 4}})
    assert "datasets.Rings.settings.train.k_star: k_star 4 must lie in [1, 3]" in one_problem(
        config
    )


# ------------------------------------------------------------------------ published models
MULTISHAPE = "multishape/models/checkpoint.pt"
MULTISCALE = "multiscale/models/checkpoint.pt"
SINGLE_SHOT_5 = "single-shot/models/single_shot_model_scenario_5.pt"


def simulated(family: str, published: str | None, **model) -> dict:
    """A config with one simulated dataset ``D`` of ``family`` using a published model."""
    model = {"source": "published", "published": published, **model}
    entry = {"source": "simulate", "family": family, "n_fovs": 5, "table1": False}
    return {"datasets": {"D": {**entry, "settings": {"model": model}}}}


def test_a_published_model_brings_its_training_settings_below_the_config():
    shapes = load_settings(simulated("multishape", MULTISHAPE))["datasets"]["D"]
    assert (shapes["model"]["steps"], shapes["model"]["radius"]) == (20, 0.2)
    assert shapes["model"]["published"] == MULTISHAPE and shapes["train"]["k_star"] is None
    assert published_import(shapes) == {
        "path": MULTISHAPE,
        "published_file": None,
        "steps": 20,
        "radius": 0.2,
        "k_star": None,
        "class_names": ["non-clustered", "spot", "ellipse"],
        "fov_nm": 6400.0,  # trained on unit-square FOVs: the simulation's FOV side
    }
    config = simulated("multishape", MULTISHAPE, steps=8)
    config["datasets"]["D"]["params"] = {"fov_size": 2400, "n_clusters": [3, 4]}
    shapes = load_settings(config)["datasets"]["D"]
    assert shapes["model"]["steps"] == 8 and published_import(shapes)["fov_nm"] == 2400.0
    npc = load_settings(simulated("npc", MULTISCALE))["datasets"]["D"]
    assert (npc["model"]["steps"], npc["train"]["k_star"], npc["model"]["radius"]) == (20, 10, 0.2)
    assert published_import(npc)["fov_nm"] == 2000.0  # the authors' nm / 2000 scale
    gt5 = {"source": "benchmark", "folder": "Ground Truth - Scenario 5"}
    gt5["settings"] = {"model": {"source": "published", "published": SINGLE_SHOT_5}}
    settings = load_settings({"datasets": {"GT5": gt5}})["datasets"]["GT5"]
    assert (settings["model"]["steps"], settings["model"]["radius"]) == (15, 0.1)
    trained = load_settings({"datasets": {"GT5": {**gt5, "settings": {}}}})["datasets"]["GT5"]
    assert trained["model"]["published"] is None


def test_benchmark_folders_default_to_their_own_published_model():
    gt8 = {"source": "benchmark", "folder": GT8, "settings": {"model": {"source": "published"}}}
    settings = load_settings({"datasets": {"GT8": gt8}})["datasets"]["GT8"]
    assert settings["model"]["published"] == "benchmark/models/model_scenario_8.pt"
    assert published_import(settings)["fov_nm"] == 2000.0
    assert published_import(settings)["class_names"] == []


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        (
            simulated("multishape", "multishape/checkpoint.pt"),
            "datasets.D.settings.model.published: 'multishape/checkpoint.pt' is not a published "
            "model, one of benchmark/models/model_scenario_<N>[_blinking].pt, ",
        ),
        (
            simulated("multishape", MULTISHAPE, source="train"),
            f"datasets.D.settings.model.published: '{MULTISHAPE}' is only used with model.source",
        ),
        (
            simulated("multishape", None),
            "datasets.D.settings.model.source: 'published' on simulated dataset 'D' needs "
            "model.published, one of ",
        ),
    ],
)
def test_model_published_must_be_a_published_model(config, expected):
    line = one_problem(config)
    assert expected in line
    if "one of" in expected:
        assert f"{MULTISHAPE}, single-shot/models/single_shot_model_scenario_{{5,6}}.pt" in line


def test_authors_dbscan_parameters_of_the_published_models():
    shapes = simulated("multishape", MULTISHAPE)
    shapes["datasets"]["D"]["settings"]["dbscan"] = {"source": "published"}
    spec = authors_dbscan(load_settings(shapes)["datasets"]["D"], "MIRO")
    assert spec["eps"] == pytest.approx(0.013 * 6400) and spec["min_samples"] == 5
    assert "eps 0.013 normalised x 6400 nm FOV" in spec["source"]
    npc = simulated("npc", MULTISCALE)
    npc["datasets"]["D"]["settings"]["dbscan"] = {"source": "published"}
    line = one_problem(npc)
    assert "dbscan.source: 'published' on dataset 'D': the authors published" in line
    gt5 = {"source": "benchmark", "folder": "Ground Truth - Scenario 5"}
    model = {"source": "published", "published": SINGLE_SHOT_5}
    gt5["settings"] = {"model": model, "dbscan": {"source": "published"}}
    settings = load_settings({"datasets": {"GT5": gt5}})
    assert authors_dbscan(settings["datasets"]["GT5"], "MIRO") == {
        "metadata": "single-shot/metadata.json",
        "folder": "Ground Truth - Scenario 5",
        "params": "MIRO_DBSCAN_params",
    }
    assert authors_dbscan(settings["datasets"]["GT5"], "DBSCAN")["params"] == "DBSCAN_params"
    assert published_needs(settings) == {
        SINGLE_SHOT_5: ["GT5"],
        "single-shot/metadata.json": ["GT5"],  # its MIRO + DBSCAN
        "benchmark/metadata.json": ["GT5"],  # the folder's plain DBSCAN in the DBSCAN table
    }


def test_experiments_and_single_shot_take_fitting_published_models():
    shapes = simulated("multishape", MULTISHAPE)
    shapes["experiments"] = {"shapes": ["D"]}
    load_settings(shapes)
    shapes["datasets"]["D"]["params"] = {"shapes": ["ellipse", "spot"]}
    assert "simulates shapes ['ellipse', 'spot'], but its published model" in one_problem(shapes)
    shapes["datasets"]["D"]["settings"]["model"]["published"] = MULTISCALE
    assert f"uses the published model {MULTISCALE}, which has no class head" in one_problem(shapes)
    npc = simulated("npc", MULTISCALE)
    npc["experiments"] = {"multiscale": ["D"]}  # k_star 10 comes with the model
    load_settings(npc)
    gt5 = {"source": "benchmark", "folder": "Ground Truth - Scenario 5", "table1": False}
    gt5["settings"] = {"model": {"source": "published", "published": SINGLE_SHOT_5}}
    config = {"datasets": {"GT5": gt5}, "ablations": {"single_shot": ["GT5"]}}
    load_settings(config)
    gt5["settings"]["model"]["published"] = "benchmark/models/model_scenario_5.pt"
    assert "or with a published single-shot model" in one_problem(config)


# ---------------------------------------------------------------------- benchmark.local_dir
def test_local_dir_must_exist_and_hold_every_file_of_each_folder(tmp_path):
    config = {"datasets": {"GT8": {"source": "benchmark", "folder": GT8}}}
    config["benchmark"] = {"local_dir": str(tmp_path / "nope")}
    assert one_problem(config).endswith(f"benchmark.local_dir: {tmp_path / 'nope'} is not a folder")
    config["benchmark"] = {"local_dir": str(tmp_path)}
    assert f"has no folder '{GT8}' (dataset 'GT8')" in one_problem(config)
    files = benchmark_files(GT8)
    (tmp_path / GT8).mkdir()
    for name in files[1:]:
        (tmp_path / GT8 / name).touch()
    assert f"lacks 1 of its {len(files)} files, e.g. {files[0]}" in one_problem(config)
    (tmp_path / GT8 / files[0]).touch()
    load_settings(config)


# ---------------------------------------------------------------------- published.local_dir
def _published_copy(root, folders=(GT8,), eps=12.5):
    """A fake local copy of the authors' files (upstream layout): checkpoints and metadata."""
    (root / "benchmark" / "models").mkdir(parents=True)
    (root / "benchmark" / "models" / "model_scenario_8.pt").touch()
    metadata = {f: {"MIRO_DBSCAN_params": {"eps": eps, "min_samples": 9}} for f in folders}
    (root / "benchmark" / "metadata.json").write_text(json.dumps(metadata))


def test_published_local_dir_must_hold_the_files_the_datasets_need(tmp_path):
    gt8 = {"source": "benchmark", "folder": GT8}
    config = {
        "published": {"local_dir": str(tmp_path / "nope")},
        "defaults": {"model": {"source": "published"}},
        "datasets": {"GT8": gt8},
    }
    assert one_problem(config).endswith(f"published.local_dir: {tmp_path / 'nope'} is not a folder")
    config["published"]["local_dir"] = str(tmp_path)
    model, metadata = problems(config)  # the model, and the authors' values of the DBSCAN table
    assert (
        "published.local_dir: " in model and "lacks benchmark/models/model_scenario_8.pt" in model
    )
    assert "(dataset 'GT8')" in model
    assert "lacks benchmark/metadata.json (dataset 'GT8')" in metadata
    _published_copy(tmp_path)
    assert load_settings(config)["published"]["local_dir"] == str(tmp_path)
    mb8 = {"source": "benchmark", "folder": "Multiple Blinking - Scenario 8"}
    config["datasets"]["MB8"] = mb8
    assert "lacks benchmark/models/model_scenario_8_blinking.pt (dataset 'MB8')" in one_problem(
        config
    )
    mb8["settings"] = {"model": {"published_file": "elsewhere.pt"}}  # its own file: not needed
    load_settings(config)
    config["defaults"]["dbscan"] = {"source": "published"}  # metadata lacks MB8's entry
    line = one_problem(config)
    assert "metadata.json: no entry for benchmark folder 'Multiple Blinking - Scenario 8'" in line
    assert line.endswith("(dataset 'MB8')")
    (tmp_path / "benchmark" / "metadata.json").unlink()
    assert "lacks benchmark/metadata.json (dataset 'GT8')" in one_problem(config)


def test_published_settings_are_execution_settings():
    given = execution_settings({"published": {"local_dir": "/weights"}})
    assert given["published"]["local_dir"] == "/weights"
    assert "DeepTrackAI/MIRO" in given["published"]["base_url"]
    assert execution_settings({})["published"]["local_dir"] is None
    settings = load_settings({"datasets": {"GT8": {"source": "benchmark", "folder": GT8}}})
    assert "published" not in settings["datasets"]["GT8"]  # never part of a rule's params


# ------------------------------------------------------------------------------ example_fov
def test_example_fov_must_be_a_test_fov_of_every_figure_dataset():
    test = split_fovs(range(1, 7), n_train=3, seed=0)["test"]
    shared = next(fov for fov in test if fov not in GT8_TRAIN)  # a test FOV of both datasets
    config = {"example_fov": shared, **rings()}
    config["datasets"]["GT8"] = {"source": "benchmark", "folder": GT8}
    config["datasets"]["Other"] = {"source": "simulate", "family": "rings", "n_fovs": 4}
    config["datasets"]["Other"]["table1"] = False  # no panel: its split does not matter
    load_settings(config)
    config["example_fov"] = 99
    assert problems(config) == [
        "config.yaml: example_fov: 99 is not among FOVs 1-6 of dataset 'Rings'",
        "config.yaml: example_fov: 99 is not among FOVs 1-50 of dataset 'GT8'",
    ]
    config["example_fov"] = GT8_TRAIN[0]
    assert f"example_fov: {GT8_TRAIN[0]} is a training FOV of dataset 'GT8'" in "\n".join(
        problems(config)
    )


# ------------------------------------------------------------------- experiments, ablations
STUDIES = {
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
        "Single": {
            "source": "simulate",
            "family": "benchmark",
            "n_fovs": 4,
            "settings": {"augment": {"single_shot": True}},
        },
    },
    "experiments": {
        "shapes": ["Shapes"],
        "multiscale": ["NPC"],
        "adjacent": {"dataset": "Pairs", "distances": [1, 2], "n_fovs": 3},
    },
    "ablations": {
        "width": {"dataset": "Shapes"},
        "loss_weights": {"dataset": "Shapes"},
        "single_shot": ["Single"],
        "magik": {"datasets": ["Pairs"], "width": 8, "heads": 4},
    },
}


def studies_with(**changes) -> dict:
    config = copy.deepcopy(STUDIES)
    for path, value in changes.items():
        *keys, last = path.split("__")
        node = config
        for key in keys:
            node = node[key]
        node[last] = value
    return config


def test_study_config_is_valid():
    load_settings(STUDIES)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"experiments__shapes": ["Nope"]}, "experiments.shapes[0]: 'Nope' is not a configured"),
        ({"datasets__NPC__table1": True}, "experiments.multiscale: dataset 'NPC' needs table1"),
        ({"datasets__NPC__settings": {}}, "settings.train.k_star"),
        ({"experiments__adjacent__dataset": "Shapes"}, "family adjacent_pairs"),
        ({"experiments__adjacent__dataset": "X"}, "experiments.adjacent.dataset: 'X' is not a"),
        ({"ablations__width__dataset": "X"}, "ablations.width.dataset: 'X' is not a configured"),
        ({"ablations__loss_weights__dataset": "X"}, "ablations.loss_weights.dataset: 'X'"),
        ({"ablations__single_shot": ["Single", "X"]}, "ablations.single_shot[1]: 'X' must be"),
        ({"ablations__single_shot": ["Shapes"]}, "with augment.single_shot: true"),
        ({"ablations__magik__datasets": ["X"]}, "ablations.magik.datasets[0]: 'X' is not a"),
        ({"ablations__magik__width": 10}, "ablations.magik: width 10 must be a multiple of heads"),
    ],
)
def test_studies_name_misfit_datasets(change, expected):
    assert expected in one_problem(studies_with(**change))


# ------------------------------------------------------------------------------------ apply
def test_apply_section(tmp_path):
    base = {**rings(), "apply": {"dataset": "Rings", "input_dir": str(tmp_path)}}
    assert f"apply.input_dir: {tmp_path} needs *.csv / *.tsv files" in one_problem(base)
    (tmp_path / "a.csv").touch()
    load_settings(base)
    (tmp_path / "a.tsv").touch()
    assert "with distinct stems" in one_problem(base)
    missing = {**base, "apply": {"dataset": "Rings", "input_dir": str(tmp_path / "no")}}
    assert one_problem(missing).endswith(f"apply.input_dir: {tmp_path / 'no'} is not a folder")
    neither = {**base, "apply": {"dataset": "X"}}
    assert problems(neither) == [
        "config.yaml: apply.dataset: 'X' is not a configured dataset",
        "config.yaml: apply: give either input_dir or example (a simulated input), not both or "
        "neither",
    ]
    example = {**base, "apply": {"dataset": "Rings", "example": {"simulate": "integrn"}}}
    assert "apply.example.family: 'integrn' is not one of" in one_problem(example)
    example["apply"]["example"] = {"simulate": "integrin", "params": {"n_clusters": [40, 60]}}
    load_settings(example)


# ------------------------------------------------------------------------ your own data
def own(folder, **changes) -> dict:
    """A config with one local dataset of the files in ``folder``."""
    return {"datasets": {"Mine": {"source": "local", "path": str(folder), **changes}}}


@pytest.fixture
def annotated(tmp_path):
    """A folder of five (empty: config checks do not read them) annotated files."""
    for name in ("cell10.csv", "cell2.csv", "cell1.csv", "cell3.csv", "cell4.csv"):
        (tmp_path / name).touch()
    (tmp_path / "notes.txt").touch()
    return tmp_path


def test_local_dataset_lists_its_files_and_has_no_paper_name(annotated):
    s = load_settings(own(annotated, label_column="cluster_id"))["datasets"]["Mine"]
    assert s["local"] == {
        "path": str(annotated),
        **LOCAL,
        "label_column": "cluster_id",
        "files": ["cell1.csv", "cell2.csv", "cell3.csv", "cell4.csv", "cell10.csv"],
    }
    assert s["paper_name"] is None and s["table1"]
    assert s["train_fovs"] is None and s["n_train"] == 3  # drawn with the seed
    assert s["dbscan"]["baseline"] == "optuna" and s["params"] == {"blinking": False}
    named = own(
        annotated, paper_name="Rings", blinking=True, pattern="cell1*", train_files=["cell1"]
    )
    s = load_settings(named)["datasets"]["Mine"]
    assert s["paper_name"] == "Rings" and s["params"] == {"blinking": True}
    assert s["local"]["files"] == ["cell1.csv", "cell10.csv"]


def test_training_files_fix_the_split(annotated):
    config = {**own(annotated, train_files=["cell10", "cell2.csv"]), "defaults": {"n_train": 4}}
    s = load_settings(config)["datasets"]["Mine"]
    assert s["train_fovs"] == [2, 5] and s["n_train"] == 2  # over the defaults' n_train
    split = split_fovs(range(1, 6), n_train=s["n_train"], train_fovs=s["train_fovs"], seed=3)
    assert split == {"train": [2, 5], "test": [1, 3, 4]}
    config["example_fov"] = 2
    assert one_problem(config).endswith("example_fov: 2 is a training FOV of dataset 'Mine'")


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"path": "/no/such/dir"}, "datasets.Mine.path: /no/such/dir is not a folder"),
        ({"pattern": "*.tsv"}, "datasets.Mine.pattern: no file of {dir} matches '*.tsv'"),
        ({"format": "csv"}, "datasets.Mine.format: 'csv' is not one of auto, benchmark"),
        ({"train_files": ["cell9"]}, "datasets.Mine.train_files: training files ['cell9'] are"),
        (
            {"train_files": [f"cell{n}" for n in (1, 2, 3, 4, 10)]},
            "datasets.Mine.train_files: 5 training files leave no test FOV of the 5 files",
        ),
        (
            {"train_files": ["cell1"], "settings": {"n_train": 2}},
            "datasets.Mine.settings.n_train: 2, but train_files names 1 files",
        ),
        ({"settings": {"n_train": 5}}, "datasets.Mine.settings.n_train: 5 training FOVs leave"),
        ({"family": "rings"}, "datasets.Mine.family: a key of source simulate, not of local"),
        (
            {"settings": {"dbscan": {"baseline": "published"}}},
            "baseline: 'published' on local dataset 'Mine'; only benchmark folders have",
        ),
        ({"columns": {"index": "id"}}, "datasets.Mine.columns: 'index' is not one of x, y"),
        (
            {"settings": {"model": {"source": "published"}}},
            "'published' on local dataset 'Mine' needs model.published",
        ),
        (
            {"settings": {"model": {"source": "published", "published": "multishape/models/"}}},
            "is not a published model",
        ),
    ],
)
def test_local_dataset_problems(annotated, changes, expected):
    assert expected.format(dir=annotated) in one_problem(own(annotated, **changes))


def test_local_keys_on_other_sources_and_shared_stems(annotated):
    config = rings(path=str(annotated), label_column="id")
    assert problems(config) == [
        "config.yaml: datasets.Rings.path: a key of source local, not of simulate",
        "config.yaml: datasets.Rings.label_column: a key of source local, not of simulate",
    ]
    (annotated / "cell1.tsv").touch()
    twins = own(annotated, pattern="cell1.*", train_files=["cell1.csv"])
    line = one_problem(twins)
    assert "datasets.Mine.pattern: files of" in line and "share the stems ['cell1']" in line
    shapes = own(annotated, settings={"model": {"source": "published"}})
    shapes["datasets"]["Mine"]["settings"]["model"]["published"] = "multishape/models/checkpoint.pt"
    assert "trained on unit-square FOVs" in one_problem(shapes)


# ---------------------------------------------------------------------- files, command line
def test_yaml_syntax_error_names_file_line_and_column(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("seed: 1\ndatasets:\n  a: {source: simulate\n  b: 2\n")
    with pytest.raises(ConfigError) as caught:
        read_config(path)
    assert str(caught.value).startswith(f"{path}: line 4, column 4: expected ',' or '}}'")
    assert "at line 3, column 6" in str(caught.value)
    path.write_text("- 1\n")
    with pytest.raises(ConfigError, match="must be a mapping of top-level keys"):
        read_config(path)
    with pytest.raises(ConfigError, match="cannot read the file"):
        read_config(tmp_path / "none.yaml")


def test_check_command(tmp_path, capsys):
    good, bad = tmp_path / "good.yaml", tmp_path / "bad.yaml"
    good.write_text(yaml.safe_dump(rings()))
    bad.write_text(yaml.safe_dump({"defaults": {"dbscan": {"eps_nm": [9, 3]}}}))
    assert main(["check", str(good)]) == 0
    assert main(["check", "--syntax", str(good), str(bad)]) == 0
    assert main(["check", str(good), str(bad)]) == 2  # merged in order, as Snakemake does
    assert "defaults.dbscan.eps_nm: [9, 3] is not increasing" in capsys.readouterr().err
    bad.write_text("a: [1\n")
    assert main(["check", "--syntax", str(bad)]) == 2
    assert f"{bad}: line 2, column 1" in capsys.readouterr().err
