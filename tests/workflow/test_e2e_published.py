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
