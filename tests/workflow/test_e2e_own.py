"""Your own data end to end (README "Your own data"): a folder of annotated ThunderSTORM
exports with a cluster_id column -> augment, train, tune, evaluate -> Table 1, Fig. 2 and a
report without a scorecard -> the trained model clusters unlabelled acquisitions (apply)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from PIL import Image
from workflow_run import REPO, snakemake

from miro.core.checkpoint import load_checkpoint
from miro.data.simulate import simulate_fov
from miro.evaluation.metrics import METRICS

OWN = REPO / "tests" / "workflow" / "config-own.yaml"
TRAIN = {"cell_01": 1, "cell_03": 3}  # train_files of the config -> their FOV numbers

pytestmark = pytest.mark.slow


def thunderstorm(frame: pd.DataFrame, path: Path, labelled: bool) -> Path:
    """A ThunderSTORM-style export of ``frame``; its cluster ids as ``cluster_id`` if
    ``labelled``."""
    out = pd.DataFrame(
        {
            "id": np.arange(1, len(frame) + 1),
            "frame": np.arange(len(frame)) // 5 + 1,
            "x [nm]": frame["x"].round(2),
            "y [nm]": frame["y"].round(2),
            "uncertainty [nm]": 8.0,
        }
    )
    if labelled:
        out["cluster_id"] = frame["index"].to_numpy()
    out.to_csv(path, index=False)
    return path


def write_own_data(workdir: Path) -> dict[str, Path]:
    """annotated/cell_0{1..4}.csv (2 µm FOVs of simulated Scenario 8) and acquisitions/
    cell_{a,b}.csv (unlabelled; cell_b 4 µm wide: several windows of the training extent)."""
    files = {}
    for folder in ("annotated", "acquisitions"):
        (workdir / folder).mkdir()
    for n in range(1, 5):
        fov = simulate_fov("benchmark", n, scenario=8, blinking=False)
        files[f"cell_0{n}"] = thunderstorm(fov, workdir / "annotated" / f"cell_0{n}.csv", True)
    (workdir / "annotated" / "README.txt").write_text("not a FOV: the pattern is *.csv\n")
    for stem, seed, size in (("cell_a", 11, 2000.0), ("cell_b", 12, 4000.0)):
        fov = simulate_fov("benchmark", seed, scenario=8, blinking=False, fov_size=size)
        files[stem] = thunderstorm(fov, workdir / "acquisitions" / f"{stem}.csv", False)
    return files


@pytest.fixture(scope="module")
def own_run(tmp_path_factory) -> Path:
    workdir = tmp_path_factory.mktemp("own")
    write_own_data(workdir)
    run = snakemake(workdir, "--configfile", str(OWN), "--cores", "2", timeout=2400)
    assert run.returncode == 0, run.stderr[-6000:]
    return workdir


def test_annotated_files_become_the_dataset_and_its_split(own_run):
    fovs = own_run / "results" / "Mine" / "data" / "fovs"
    index = pd.read_csv(fovs / "index.tsv", sep="\t")
    assert index.to_dict("list") == {
        "fov": [1, 2, 3, 4],
        "file": ["cell_01.csv", "cell_02.csv", "cell_03.csv", "cell_04.csv"],
    }
    fov = pd.read_csv(fovs / "cell_02.csv")
    source = pd.read_csv(own_run / "annotated" / "cell_02.csv")
    assert list(fov.columns) == ["x", "y", "index"]
    np.testing.assert_array_equal(fov["index"], source["cluster_id"])
    np.testing.assert_array_equal(fov["x"], source["x [nm]"])
    split = json.loads((own_run / "results" / "Mine" / "split.json").read_text())
    assert split == {"train": sorted(TRAIN.values()), "test": [2, 4]}


def test_table1_and_statistics_cover_the_test_fovs_without_a_scorecard(own_run):
    tables = own_run / "results" / "tables"
    table = pd.read_csv(tables / "table1.csv")
    assert list(zip(table["dataset"], table["method"], strict=True)) == [
        ("Mine", "MIRO"),
        ("Mine", "DBSCAN"),
    ]
    assert (table["n"] == 2).all()
    for metric in ("ARI_dagger", "IoU", "JI_c", "AMI", "ARI_c", "ARI"):
        assert table[metric].between(-1, 1).all(), metric
    long_df = pd.read_csv(own_run / "results" / "Mine" / "miro" / "metrics.csv")
    assert set(long_df["fov"]) == {2, 4} and set(long_df["metric"]) == set(METRICS)
    assert "preset: own" in (tables / "table1.md").read_text()
    assert set(pd.read_csv(tables / "stats.csv")["dataset"]) == {"Mine"}
    assert not (tables / "scorecard.csv").exists() and not (tables / "scorecard.md").exists()
    dbscan = pd.read_csv(tables / "dbscan_params.csv")
    assert dbscan["source"].str.startswith("optuna").all() and set(dbscan["dataset"]) == {"Mine"}


def test_fig2_and_the_report(own_run):
    figures = own_run / "results" / "figures"
    with Image.open(figures / "fig2_Mine.png") as image:
        assert image.size[0] > 500 and image.size[1] > 300
    assert (figures / "fig2_Mine.pdf").read_bytes()[:4] == b"%PDF"
    report = own_run / "report.html"
    run = snakemake(own_run, "--configfile", str(OWN), "--report", str(report), timeout=300)
    assert run.returncode == 0, run.stderr[-4000:]
    html = report.read_text(errors="replace")
    assert "fig2_Mine.png" in html and "table1.csv" in html and "Mine_miro.png" in html
    assert "scorecard.csv" not in html and "Scorecard" not in html


def test_the_trained_model_clusters_the_unlabelled_acquisitions(own_run):
    checkpoint = load_checkpoint(own_run / "results" / "Mine" / "miro" / "model.pt")
    extents = [
        np.ptp(pd.read_csv(own_run / "annotated" / f"{f}.csv")[["x [nm]", "y [nm]"]], axis=0).max()
        for f in TRAIN
    ]
    assert checkpoint.fov_nm == pytest.approx(np.mean(extents))  # the windows of apply
    for stem in ("cell_a", "cell_b"):
        source = pd.read_csv(own_run / "acquisitions" / f"{stem}.csv")
        labels = pd.read_csv(own_run / "results" / "apply" / f"{stem}.labels.csv")
        assert len(labels) == len(source)
        np.testing.assert_array_equal(labels["x"], source["x [nm]"])
        assert {"miro_cluster", "dbscan_cluster"} <= set(labels.columns)
        clusters = pd.read_csv(own_run / "results" / "apply" / f"{stem}.clusters_miro.csv")
        assert len(clusters) == labels["miro_cluster"].max() > 0
        assert clusters["n_localizations"].sum() == (labels["miro_cluster"] > 0).sum()
        with Image.open(own_run / "results" / "apply" / f"{stem}.map.png") as image:
            assert image.size[0] > 300


def test_the_scorecard_compares_the_paper_datasets_only(tmp_path):
    """Own data next to a dataset the paper reports: the scorecard reads the paper one's
    metrics only (Table 1 has both)."""
    write_own_data(tmp_path)
    config = yaml.safe_load(OWN.read_text())
    config["datasets"]["Rings"] = {"source": "simulate", "family": "rings", "n_fovs": 4}
    path = tmp_path / "mixed.yaml"
    path.write_text(yaml.safe_dump(config))
    targets = ["results/tables/scorecard.csv", "results/tables/table1.csv"]
    run = snakemake(tmp_path, "-n", *targets, "--configfile", str(path))
    assert run.returncode == 0, run.stderr[-4000:]
    plan = run.stdout + run.stderr
    [inputs] = re.findall(r"rule scorecard:\n\s+input: (.*)\n", plan)
    assert inputs == "results/Rings/miro/metrics.csv"
    [inputs] = re.findall(r"rule tables:\n\s+input: (.*)\n", plan)
    assert inputs.split(", ") == ["results/Mine/miro/metrics.csv", "results/Rings/miro/metrics.csv"]


def test_a_bad_annotated_file_stops_the_run_in_obtain_naming_it(tmp_path):
    write_own_data(tmp_path)
    bad = tmp_path / "annotated" / "cell_04.csv"
    pd.read_csv(bad).rename(columns={"cluster_id": "cluster"}).to_csv(bad, index=False)
    run = snakemake(tmp_path, "--configfile", str(OWN), "--cores", "1", timeout=600)
    assert run.returncode != 0
    log = (tmp_path / "results" / "logs" / "obtain" / "Mine.log").read_text()
    assert f"{Path('annotated') / 'cell_04.csv'}: missing columns" in log and "cluster_id" in log
    assert "cell_01.csv" not in log.split("problem(s)")[1]  # only the bad file is named
    assert not (tmp_path / "results" / "Mine" / "data" / "fovs").exists()
    assert not (tmp_path / "results" / "Mine" / "augment").exists()  # nothing ran after it


def test_an_edited_annotation_reruns_its_dataset(own_run):
    """The annotated files are inputs of rule obtain: the completed run is up to date until
    one of them changes (its content: a touched file re-runs nothing), which re-runs the
    dataset from obtain on."""
    run = snakemake(own_run, "-n", "--configfile", str(OWN), "--cores", "1")
    assert run.returncode == 0 and "Nothing to be done" in run.stdout + run.stderr
    edited = own_run / "annotated" / "cell_02.csv"
    os.utime(edited)
    run = snakemake(own_run, "-n", "--configfile", str(OWN), "--cores", "1")
    assert run.returncode == 0 and "Nothing to be done" in run.stdout + run.stderr
    table = pd.read_csv(edited)
    table.loc[table["cluster_id"] > 0, "cluster_id"] += 1  # a cluster annotated anew
    table.to_csv(edited, index=False)
    run = snakemake(own_run, "-n", "--configfile", str(OWN), "--cores", "1")
    assert run.returncode == 0, run.stderr[-4000:]
    stats = (run.stdout + run.stderr).split("Job stats:")[1]
    jobs = dict(re.findall(r"^(\w+)\s+(\d+)\s*$", stats, re.M))
    assert jobs["obtain"] == "1" and jobs["train"] == "1" and jobs["apply"] == "2"
