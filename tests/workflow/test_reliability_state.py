"""Stale state is never reused and failures leave nothing behind, through the real workflow.

Replays of probes on a finished tiny run (docs/reproducibility.md): more augmented graphs must
retrain rather than "resume" the finished run, a new eps range must re-tune DBSCAN, and a failing
``obtain`` must not leave its temporary folder.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import yaml
from workflow_run import snakemake

from miro.config import benchmark_files
from miro.core.checkpoint import load_checkpoint

pytestmark = pytest.mark.slow


def _config(workdir: Path, n_graphs: int = 4, eps_nm: tuple[int, int] = (5, 120), **extra) -> Path:
    """One small simulated dataset: 4 FOVs (2 train), width 4, 1 epoch, 3 Optuna trials."""
    config = {
        "preset": "state-probe",
        "seed": 0,
        "device": "cpu",
        "defaults": {
            "n_train": 2,
            "model": {"width": 4, "steps": 2},
            "augment": {"n_graphs": n_graphs, "chunks": 1},
            "train": {"epochs": 1, "batch_size": 4},
            "dbscan": {"n_trials": 3, "min_samples": [2, 10], "eps_nm": list(eps_nm)},
        },
        "datasets": {
            "S8": {
                "source": "simulate",
                "family": "benchmark",
                "params": {"scenario": 8, "blinking": False},
                "n_fovs": 4,
                "settings": {"model": {"radius": 0.2}},
            }
        },
        **extra,
    }
    path = workdir / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def _run(workdir: Path, target: str, **config) -> None:
    config_file = str(_config(workdir, **config))
    run = snakemake(workdir, "--configfile", config_file, "--cores", "1", target)
    assert run.returncode == 0, run.stderr[-6000:]


def test_more_augmented_graphs_retrain_instead_of_resuming(tmp_path):
    target = "results/S8/miro/model.pt"
    _run(tmp_path, target, n_graphs=4)
    old = load_checkpoint(tmp_path / target)
    _run(tmp_path, target, n_graphs=6)
    new = load_checkpoint(tmp_path / target)
    log = (tmp_path / "results" / "logs" / "train" / "S8" / "miro.log").read_text()
    assert "the training graphs changed: training from scratch" in log
    assert (old.n_graphs, new.n_graphs) == (4, 6) and len(new.history) == 1
    old_w, new_w = old.model.state_dict(), new.model.state_dict()
    assert any(not torch.equal(old_w[k], new_w[k]) for k in old_w)
    losses = (tmp_path / "results" / "S8" / "miro" / "losses.csv").read_text()
    assert losses.splitlines()[0].startswith("epoch,loss") and len(losses.splitlines()) == 2
    assert not list((tmp_path / "results").rglob(".*.tmp.*"))


def test_new_eps_range_is_tuned_afresh(tmp_path):
    target = "results/S8/miro/dbscan/DBSCAN.json"
    _run(tmp_path, target, eps_nm=(5, 120))
    assert 5 <= json.loads((tmp_path / target).read_text())["eps"] <= 120
    _run(tmp_path, target, eps_nm=(150, 200))
    assert 150 <= json.loads((tmp_path / target).read_text())["eps"] <= 200
    log = (tmp_path / "results" / "logs" / "optimise_dbscan" / "S8" / "miro_DBSCAN.log").read_text()
    assert "eps_range [5.0, 120.0] -> [150.0, 200.0]; starting a fresh study" in log


def test_failing_obtain_leaves_no_temporary_folder(tmp_path):
    # a local copy with every file of the folder, but damaged: the checksum fails in the job
    # (a missing folder or file is reported before any job, by miro.config.load_settings)
    damaged = tmp_path / "damaged-benchmark"
    folder = damaged / "Ground Truth - Scenario 8"
    folder.mkdir(parents=True)
    for name in benchmark_files("Ground Truth - Scenario 8"):
        (folder / name).write_text("x,y,index\n0,0,0\n")
    config = _config(tmp_path, benchmark={"local_dir": str(damaged)})
    settings = yaml.safe_load(config.read_text())
    settings["datasets"] = {
        "GT8": {"source": "benchmark", "folder": "Ground Truth - Scenario 8", "n_fovs": 4}
    }
    config.write_text(yaml.safe_dump(settings))
    run = snakemake(tmp_path, "--configfile", str(config), "--cores", "1", "results/GT8/data/fovs")
    assert run.returncode != 0
    log = (tmp_path / "results" / "logs" / "obtain" / "GT8.log").read_text()
    assert "does not match the manifest" in log
    data = tmp_path / "results" / "GT8" / "data"
    assert not data.exists() or list(data.iterdir()) == []
