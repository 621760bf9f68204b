"""What a config change re-runs: on the completed tiny run, a dry run with one setting changed
plans exactly the jobs that depend on it (rule ``params`` carry only what their scripts use)."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest
import yaml
from workflow_run import TINY, snakemake

pytestmark = pytest.mark.slow

#: rules that tune DBSCAN or read DBSCAN parameters, labels or metrics (and the final target)
CLUSTERING = {
    "optimise_dbscan",
    "cluster",
    "metrics",
    "tables",
    "scorecard",
    "dbscan_table",
    "fig2",
    "classify_shapes",
    "fig3",
    "multiscale_evaluate",
    "fig5",
    "adjacent_scan",
    "fig4a",
    "width_ablation",
    "loss_weights_ablation",
    "single_shot_table",
    "magik_table",
    "landscape",
    "landscape_table",
    "all",
}
#: rules downstream of a dataset's MIRO model
MODEL = CLUSTERING | {"train", "transform", "hyperparameters", "loss_curve", "training_table"}


def planned_rules(workdir: Path, tmp_path: Path, change) -> set[str]:
    """Rules a dry run plans after ``change`` (a function editing the config dict in place)."""
    config = yaml.safe_load(TINY.read_text())
    edited = copy.deepcopy(config)
    change(edited)
    assert edited != config, "the change must change the config"
    path = tmp_path / "changed.yaml"
    path.write_text(yaml.safe_dump(edited, sort_keys=False))  # dataset order is part of it
    run = snakemake(workdir, "-n", "--configfile", str(path), "--cores", "1")
    assert run.returncode == 0, run.stderr[-4000:]
    output = run.stdout + run.stderr
    if "Nothing to be done" in output:
        return set()
    stats = output.split("Job stats:", 1)[1].split("total", 1)[0]
    return set(re.findall(r"^(\w+)\s+\d+\s*$", stats, flags=re.M)) - {"job"}


def set_in(*keys, value):
    def change(config):
        node = config
        for key in keys[:-1]:
            node = node.setdefault(key, {})
        node[keys[-1]] = value

    return change


def test_the_completed_run_is_up_to_date(tiny_run, tmp_path):
    run = snakemake(tiny_run, "-n", "--configfile", str(TINY), "--cores", "1")
    assert "Nothing to be done" in run.stdout + run.stderr


def test_a_dbscan_setting_reruns_tuning_and_downstream_only(tiny_run, tmp_path):
    rules = planned_rules(tiny_run, tmp_path, set_in("defaults", "dbscan", "n_trials", value=9))
    assert rules == CLUSTERING


def test_epochs_rerun_training_and_downstream_not_data(tiny_run, tmp_path):
    rules = planned_rules(tiny_run, tmp_path, set_in("defaults", "train", "epochs", value=2))
    assert rules == MODEL


def test_a_report_label_reruns_only_the_scorecard(tiny_run, tmp_path):
    rules = planned_rules(
        tiny_run,
        tmp_path,
        set_in("datasets", "S8", "paper_name", value="Scenario 7"),
    )
    assert rules == {"scorecard", "all"}


def test_a_landscape_grid_reruns_only_the_landscapes(tiny_run, tmp_path):
    rules = planned_rules(tiny_run, tmp_path, set_in("landscape", "eps_points", value=8))
    assert rules == {"landscape", "landscape_table", "all"}


@pytest.mark.parametrize(
    "change",
    [
        set_in("defaults", "augment", "chunks", value=3),  # worker processes of augment
        set_in("device", value="auto"),
        set_in("cache_dir", value="/elsewhere/miro-cache"),  # the download cache
    ],
    ids=["augment-workers", "device", "cache-dir"],
)
def test_execution_settings_rerun_nothing(tiny_run, tmp_path, change):
    assert planned_rules(tiny_run, tmp_path, change) == set()
