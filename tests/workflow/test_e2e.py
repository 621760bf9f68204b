"""End to end: the real workflow on the tiny config, in a temporary folder, with --cores 2."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from PIL import Image
from workflow_run import REPO, TINY, snakemake

from miro.core.checkpoint import load_checkpoint
from miro.data.split import read_split
from miro.evaluation.metrics import METRICS

BOUNDS = {"RMSRE_N": (0, float("inf")), "RMSE_xy": (0, float("inf"))}
BOUNDS["RMSE_xy_published"] = BOUNDS["RMSE_xy"]


def test_tables_have_every_dataset_method_and_metric(tiny_run):
    table = pd.read_csv(tiny_run / "results" / "tables" / "table1.csv")
    assert set(table["dataset"]) == {"S8", "Rings"}
    assert set(table["method"]) == {"MIRO", "DBSCAN"}
    for metric in METRICS:
        low, high = BOUNDS.get(metric, (-1.0, 1.0))
        values = table[metric].dropna()
        assert len(values) > 0, metric
        assert values.between(low, high).all(), (metric, values.tolist())
    long_df = pd.read_csv(tiny_run / "results" / "S8" / "miro" / "metrics.csv")
    assert set(long_df["metric"]) == set(METRICS)
    assert long_df["fov"].nunique() == 3  # 5 FOVs, 2 for training
    markdown = (tiny_run / "results" / "tables" / "table1.md").read_text()
    assert "±" in markdown and "tiny" in markdown
    stats = pd.read_csv(tiny_run / "results" / "tables" / "stats.csv")
    assert set(stats["dataset"]) == {"S8", "Rings"}
    assert stats["p"].between(0, 1).all()
    card = pd.read_csv(tiny_run / "results" / "tables" / "scorecard.csv")
    assert set(card["dataset"]) == {"S8", "Rings"}
    assert set(card["paper_dataset"]) == {"Ground Truth - Scenario 8", "Rings"}
    assert set(card["metric"]) == set(METRICS) - {"RMSE_xy_published"}


def test_dbscan_parameter_table_lists_every_dataset_and_method(tiny_run):
    table = pd.read_csv(tiny_run / "results" / "tables" / "dbscan_params.csv")
    assert list(zip(table["dataset"], table["method"], strict=True)) == [
        (ds, method) for ds in ("S8", "Rings", "S8-1shot") for method in ("DBSCAN", "MIRO")
    ]
    assert table["source"].str.startswith("optuna").all() and (table["n_trials"] == 8).all()
    assert table["authors_eps_nm"].isna().all()  # simulated: the authors published none
    assert "Supplementary Tables 1-2" in (tiny_run / "results/tables/dbscan_params.md").read_text()


def test_figures_are_real_images(tiny_run):
    for ds in ("S8", "Rings"):
        png = tiny_run / "results" / "figures" / f"fig2_{ds}.png"
        with Image.open(png) as image:
            assert image.size[0] > 500 and image.size[1] > 300
        assert (tiny_run / "results" / "figures" / f"fig2_{ds}.pdf").read_bytes()[:4] == b"%PDF"


def test_logs_and_benchmarks_are_written(tiny_run):
    assert (tiny_run / "results" / "logs" / "train" / "S8" / "miro.log").stat().st_size > 0
    assert (tiny_run / "results" / "benchmarks" / "train" / "S8" / "miro.tsv").is_file()


def test_report(tiny_run):
    report = tiny_run / "report.html"
    run = snakemake(tiny_run, "--configfile", str(TINY), "--report", str(report), timeout=300)
    assert run.returncode == 0, run.stderr[-4000:]
    html = report.read_text(errors="replace")
    assert len(html) > 10_000
    assert "fig2_S8.png" in html and "table1.csv" in html
    assert "S8_miro.png" in html and "training.csv" in html


def test_training_outputs_cover_every_trained_model(tiny_run):
    table = pd.read_csv(tiny_run / "results" / "tables" / "training.csv")
    assert len(table) == 11 and table["epochs"].eq(1).all()  # 1 epoch in the tiny config
    assert table["train_seconds"].gt(0).all() and table["final_loss"].gt(0).all()
    s8 = table[table["dataset"] == "S8"].set_index("run")
    assert set(s8.index) == {"miro", "magik"} and s8.loc["miro", "n_graphs"] == 8
    for ds, run in zip(table["dataset"], table["run"], strict=True):
        with Image.open(tiny_run / "results" / "figures" / "losses" / f"{ds}_{run}.png") as image:
            assert image.size[0] > 500


def test_rerun_is_up_to_date(tiny_run):
    run = snakemake(tiny_run, "--configfile", str(TINY), "--cores", "1", "-n")
    assert run.returncode == 0
    assert "Nothing to be done" in run.stdout + run.stderr


def test_paper_preset_dry_run_resolves_the_whole_dag(tmp_path):
    run = snakemake(tmp_path, "--configfile", str(REPO / "presets" / "paper.yaml"), "-n")
    assert run.returncode == 0, run.stderr[-4000:]
    counts = dict(re.findall(r"^(\w+)\s+(\d+)$", run.stdout, flags=re.MULTILINE))
    # every network is a run trained by rule train: 27 datasets' own MIRO (18 benchmark folders
    # + C-shaped + rings + 5 experiments + 2 single-shot); the steps ablation's 5 depths x 5
    # repeats x (MIRO, MPNN, MIRO with alpha 0); the width / loss-weight variants (the dataset's
    # own settings once + widths 64/128/512 + alpha 0/1/5/20 + beta 0.05/0.1/0.2/0.5)
    assert counts["train"] == str(27 + 75 + 12)
    assert counts["obtain"] == "28"  # the 27 datasets and the steps ablation's data
    assert counts["tables"] == "1" and counts["fig2"] == "20"
    assert counts["fig3"] == "3" and counts["fig5"] == "1" and counts["fig4a"] == "1"
    assert counts["magik_train"] == "2" and counts["single_shot_table"] == "1"
    # a loss curve per trained model of the configured datasets (not the steps ablation's) and
    # per MAGIK-S model
    assert counts["loss_curve"] == str(27 + 12 + 2) and counts["training_table"] == "1"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("bogus_key: 1\n", "bogus_key"),
        ("seed: -3\n", "seed"),
        ("device: tpu\n", "tpu"),
    ],
)
def test_invalid_config_fails_before_any_job(tmp_path, extra, message):
    config = tmp_path / "bad.yaml"
    config.write_text(TINY.read_text() + extra)
    run = snakemake(tmp_path, "--configfile", str(config), "-n")
    assert run.returncode != 0
    assert message in run.stdout + run.stderr
    assert not (tmp_path / "results").exists()


def test_experiment_datasets_stay_out_of_table1(tiny_run):
    figures = tiny_run / "results" / "figures"
    assert not any((figures / f"fig2_{ds}.png").exists() for ds in ("Shapes", "NPC", "Pairs"))
    train = {
        ds: load_checkpoint(tiny_run / "results" / ds / "miro" / "model.pt").train
        for ds in ("Shapes", "NPC", "S8")
    }
    assert train["Shapes"]["num_classes"] == 3 and train["Shapes"]["beta"] == 0.15
    assert train["NPC"]["k_star"] == 2 and train["NPC"]["num_classes"] == 0
    assert train["S8"]["num_classes"] == 0 and train["S8"]["beta"] == 0


def test_shapes_experiment(tiny_run):
    out = tiny_run / "results" / "Shapes" / "miro" / "shapes"
    confusion = pd.read_csv(out / "confusion.csv")
    assert list(confusion.columns) == ["true_class", "spot", "ellipse", "F1", "n"]
    assert confusion["true_class"].tolist() == ["spot", "ellipse"]
    assert (confusion[["spot", "ellipse"]].sum(axis=1) == confusion["n"]).all()
    assert confusion["F1"].dropna().between(0, 1).all()
    pairs = pd.read_csv(out / "pairs.csv")
    assert len(pairs) == confusion["n"].sum() > 0
    test = set(read_split(tiny_run / "results" / "Shapes" / "split.json")["test"])
    assert set(pairs["fov"]) <= test and pairs["pred_class"].isin([1, 2]).all()
    classes = pd.read_csv(out / "classes.csv.gz")
    assert set(classes["fov"]) == test and classes["class"].isin([0, 1, 2]).all()
    assert_figure(tiny_run, "fig3_Shapes")


def test_multiscale_experiment(tiny_run):
    out = tiny_run / "results" / "NPC" / "multiscale"
    long_df = pd.read_csv(out / "metrics.csv")
    assert set(long_df["dataset"]) == {"NPC spots", "NPC rings"}
    assert set(long_df["level"]) == {"spots", "rings"}
    assert set(long_df["method"]) == {"MIRO", "DBSCAN"} and set(long_df["metric"]) == set(METRICS)
    assert long_df.groupby("dataset")["fov"].nunique().eq(2).all()
    stats = pd.read_csv(out / "stats.csv")
    assert set(stats["dataset"]) == {"NPC spots", "NPC rings"} and stats["p"].between(0, 1).all()
    for level in ("spots", "rings"):  # runs of the NPC model (miro.studies.runs)
        for method in ("MIRO", "DBSCAN"):
            assert (out.parent / level / "dbscan" / f"{method}.json").is_file()
    assert_figure(tiny_run, "fig5_NPC")


def test_adjacent_experiment(tiny_run):
    out = tiny_run / "results" / "adjacent" / "Pairs"
    scan = pd.read_csv(out / "jic.csv")
    assert sorted(scan["distance"].unique()) == [1.0, 3.0]
    assert len(scan) == 2 * 2 * 2 and scan["JI_c"].between(0, 1).all()
    summary = pd.read_csv(out / "summary.csv")
    assert summary["distance"].tolist() == [1.0, 3.0] and (summary["n"] == 2).all()
    assert_figure(tiny_run, "fig4a_Pairs")


def assert_figure(workdir: Path, name: str) -> None:
    with Image.open(workdir / "results" / "figures" / f"{name}.png") as image:
        assert image.size[0] > 500 and image.size[1] > 300
    assert (workdir / "results" / "figures" / f"{name}.pdf").read_bytes()[:4] == b"%PDF"


def test_steps_ablation_and_hyperparameter_table(tiny_run):
    config = yaml.safe_load(TINY.read_text())
    wanted = config["ablations"]["steps"]
    steps = pd.read_csv(tiny_run / "results" / "ablations" / "steps.csv")
    assert set(steps["architecture"]) == {"miro", "mpnn"}
    for _, group in steps.groupby("architecture"):
        assert sorted(group["depth"]) == sorted(wanted["depths"] * wanted["repeats"])
    assert np.isfinite(steps[["compression_index", "dirichlet_energy"]].to_numpy()).all()
    assert (steps["dirichlet_energy"] >= 0).all()
    with Image.open(tiny_run / "results" / "ablations" / "steps.png") as image:
        assert image.size[0] > 600
    assert (tiny_run / "results" / "ablations" / "steps.pdf").read_bytes()[:4] == b"%PDF"

    table = pd.read_csv(tiny_run / "results" / "tables" / "hyperparameters.csv")
    assert table["dataset"].tolist() == list(config["datasets"])
    for rec in table.to_dict("records"):
        checkpoint = load_checkpoint(tiny_run / "results" / rec["dataset"] / "miro" / "model.pt")
        model = checkpoint.model
        assert rec["parameters"] == sum(p.numel() for p in model.parameters())
        assert (rec["width"], rec["steps"]) == (model.width, model.steps)
        assert rec["radius"] == checkpoint.radius and rec["source"] == "trained"
    assert "preset: tiny" in (tiny_run / "results" / "tables" / "hyperparameters.md").read_text()


def test_single_shot_table(tiny_run):
    table = pd.read_csv(tiny_run / "results" / "ablations" / "single_shot.csv")
    assert set(table["dataset"]) == {"S8-1shot"} and set(table["method"]) == {"MIRO", "DBSCAN"}
    assert table["ARI_dagger"].between(-1, 1).all()
    markdown = (tiny_run / "results" / "ablations" / "single_shot.md").read_text()
    assert "Single-shot" in markdown and "preset: tiny" in markdown
    log = (tiny_run / "results" / "logs" / "augment" / "S8-1shot.log").read_text()
    assert "single_shot=True" in log


def test_landscapes_of_every_table1_dataset(tiny_run):
    results = tiny_run / "results"
    for ds in ("S8", "Rings"):
        table = pd.read_csv(results / "landscape" / f"{ds}.csv")
        grid = table[table["kind"] == "grid"]
        assert set(grid["method"]) == {"DBSCAN", "MIRO"}
        assert len(grid) == 2 * 16 * 12 and (table["n_fovs"] == 3).all()  # 3 test FOVs
        assert grid["eps"].min() == pytest.approx(5) and grid["eps"].max() == pytest.approx(120)
        assert grid[["ARI_dagger", "JI_c"]].stack().between(-1, 1).all()
        for method in ("DBSCAN", "MIRO"):
            used = yaml.safe_load((results / ds / "miro" / "dbscan" / f"{method}.json").read_text())
            chosen = table[(table["kind"] == "chosen") & (table["method"] == method)].iloc[0]
            assert chosen["eps"] == pytest.approx(used["eps"])
            assert chosen["min_samples"] == used["min_samples"]
        with Image.open(results / "figures" / "landscape" / f"{ds}.png") as image:
            assert image.size[0] > 600 and image.size[1] > 600
    summary = pd.read_csv(results / "tables" / "landscape.csv")
    assert len(summary) == 2 * 2 * 2  # datasets x methods x metrics
    assert summary["near_best_fraction"].between(0, 1).all()
    assert "Supplementary Fig. 1" in (results / "tables" / "landscape.md").read_text()
