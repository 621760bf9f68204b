"""The workflow imports the authors' published models from a local copy with the upstream layout
(``published.local_dir``; docs/published.md), the steps and radius from the dataset settings."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import yaml
from workflow_run import REPO, snakemake

from miro.core.checkpoint import load_checkpoint
from miro.data.published_files import PUBLISHED_COMMIT

PARAMETERS = 528_386  # the published width-256 network (14 tensors)


@pytest.mark.slow
@pytest.mark.benchmark_data
def test_imports_published_models_from_the_local_copy(tmp_path, weights_dir, benchmark_dir):
    config = {
        "preset": "published",
        "device": "cpu",
        "benchmark": {"local_dir": str(benchmark_dir)},
        "published": {"local_dir": str(weights_dir), "base_url": "http://127.0.0.1:9"},
        "defaults": {"model": {"source": "published"}, "dbscan": {"source": "published"}},
        "datasets": {
            "GT8": {"source": "benchmark", "folder": "Ground Truth - Scenario 8"},
            "MB8": {
                "source": "benchmark",
                "folder": "Multiple Blinking - Scenario 8",
                "settings": {"model": {"steps": 7}},
            },
        },
    }
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    targets = ["results/GT8/miro/published.pt", "results/MB8/miro/published.pt"]
    targets.append("results/GT8/miro/dbscan/MIRO.json")  # dbscan.source: published
    args = ["--configfile", str(tmp_path / "config.yaml"), "--cores", "1", *targets]
    run = snakemake(tmp_path, *args, timeout=600)
    assert run.returncode == 0, run.stderr[-6000:]
    manifest = pd.read_csv(REPO / "resources" / "published_checkpoints.tsv", sep="\t")
    sha = dict(zip(manifest["path"], manifest["sha256"], strict=True))
    expected = {  # steps: GT8 the folder's value (benchmark_settings.csv), MB8 its own setting
        "GT8": ("benchmark/models/model_scenario_8.pt", 12, 0.2),
        "MB8": ("benchmark/models/model_scenario_8_blinking.pt", 7, 0.1),
    }
    for ds, (path, steps, radius) in expected.items():
        checkpoint = load_checkpoint(tmp_path / f"results/{ds}/miro/published.pt")
        assert sum(p.numel() for p in checkpoint.model.parameters()) == PARAMETERS
        assert checkpoint.model.steps == steps and checkpoint.radius == pytest.approx(radius)
        train = checkpoint.train
        assert train["source"] == "published" and train["commit"] == PUBLISHED_COMMIT
        assert train["path"] == path and train["sha256"] == sha[path]
    metadata = (tmp_path / "results/published/benchmark/metadata.json").read_bytes()
    assert metadata == (weights_dir / "benchmark" / "metadata.json").read_bytes()
    authors = json.loads(metadata)["Ground Truth - Scenario 8"]["MIRO_DBSCAN_params"]
    chosen = json.loads((tmp_path / "results/GT8/miro/dbscan/MIRO.json").read_text())
    assert (chosen["eps"], chosen["min_samples"]) == (authors["eps"], authors["min_samples"])
    assert chosen["source"].startswith("published") and "MIRO_DBSCAN_params" in chosen["source"]
    assert (tmp_path / "results/GT8/miro/dbscan/MIRO_trials.csv").read_text().count("\n") == 1

    # another local copy of the same files is an execution setting: nothing re-runs
    (tmp_path / "copy").symlink_to(weights_dir, target_is_directory=True)
    config["published"]["local_dir"] = str(tmp_path / "copy")
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    again = snakemake(tmp_path, *args, "--dry-run", timeout=300)
    assert again.returncode == 0, again.stderr[-6000:]
    assert "Nothing to be done" in again.stdout + again.stderr


SINGLE_SHOT_5 = "single-shot/models/single_shot_model_scenario_5.pt"


@pytest.mark.slow
@pytest.mark.benchmark_data
def test_published_models_beyond_the_benchmark_run_the_same_rules(
    tmp_path, weights_dir, benchmark_dir
):
    """The multishape, multiscale and single-shot models through the shapes experiment, the
    multiscale levels and the DBSCAN-parameter table (about 3 minutes on one core)."""
    simulated = {"source": "simulate", "n_fovs": 4, "table1": False}
    config = {
        "preset": "published-beyond",
        "device": "cpu",
        "benchmark": {"local_dir": str(benchmark_dir)},
        "published": {"local_dir": str(weights_dir), "base_url": "http://127.0.0.1:9"},
        "defaults": {"model": {"source": "published"}, "dbscan": {"n_trials": 4}},
        "datasets": {
            "GT5-1shot": {
                "source": "benchmark",
                "folder": "Ground Truth - Scenario 5",
                "table1": False,
                "settings": {
                    "model": {"published": SINGLE_SHOT_5},
                    "dbscan": {"source": "published"},
                },
            },
            "Shapes": {
                **simulated,
                "family": "multishape",
                "params": {"n_clusters": [3, 4], "fov_size": 3200},
                "settings": {
                    "model": {"published": "multishape/models/checkpoint.pt"},
                    "dbscan": {"source": "published"},
                },
            },
            "NPC": {
                **simulated,
                "family": "npc",
                "params": {"fov_size": 2000},  # the multiscale model's training scale
                "settings": {"model": {"published": "multiscale/models/checkpoint.pt"}},
            },
        },
        "experiments": {"shapes": ["Shapes"], "multiscale": ["NPC"]},
        "ablations": {"single_shot": ["GT5-1shot"]},
    }
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    targets = ["results/Shapes/miro/shapes/confusion.csv", "results/NPC/multiscale/metrics.csv"]
    targets.append("results/tables/dbscan_params.csv")  # GT5-1shot: no squeezing needed
    args = ["--configfile", str(tmp_path / "config.yaml"), "--cores", "1", *targets]
    run = snakemake(tmp_path, *args, timeout=1200)
    assert run.returncode == 0, run.stderr[-6000:]
    results = tmp_path / "results"

    npc = load_checkpoint(results / "NPC/miro/published.pt")
    assert (npc.model.steps, npc.k_star, npc.fov_nm, npc.radius) == (20, 10, 2000.0, 0.2)
    log = (results / "logs/transform/NPC/spots.log").read_text()
    assert "at step 9 of 20" in log  # spots from step k* - 1
    assert "at step 19 of 20" in (results / "logs/transform/NPC/rings.log").read_text()
    levels = pd.read_csv(results / "NPC/multiscale/metrics.csv")
    assert set(levels["level"]) == {"spots", "rings"}

    shapes = load_checkpoint(results / "Shapes/miro/published.pt")
    assert shapes.class_names == ["non-clustered", "spot", "ellipse"] and shapes.fov_nm == 3200
    confusion = pd.read_csv(results / "Shapes/miro/shapes/confusion.csv")
    assert list(confusion["true_class"]) == ["spot", "ellipse"] and confusion["n"].sum() > 0
    chosen = json.loads((results / "Shapes/miro/dbscan/MIRO.json").read_text())
    assert chosen["eps"] == pytest.approx(0.013 * 3200) and chosen["min_samples"] == 5

    table = pd.read_csv(results / "tables/dbscan_params.csv").set_index("method")
    assert list(table["dataset"]) == ["GT5-1shot", "GT5-1shot"]
    miro, dbscan = table.loc["MIRO"], table.loc["DBSCAN"]  # single-shot/metadata.json's S5
    assert (miro["eps_nm"], miro["min_samples"], miro["n_trials"]) == (26.0, 13, 0)
    assert (miro["authors_eps_nm"], miro["authors_min_samples"]) == (26.0, 13)
    assert "single-shot/metadata.json" in miro["source"]
    assert (dbscan["eps_nm"], dbscan["authors_eps_nm"]) == (35.0, 35.0)
    assert not (results / "GT5-1shot/miro/squeezed.csv.gz").exists()
