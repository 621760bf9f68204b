"""Tests for miro.outputs.study_figures: Fig. 3, Fig. 5a-b, Fig. 4a and the parameter landscape
(Supp. Fig. 1) panels are real images."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from PIL import Image

from miro.data.simulate import simulate_fov
from miro.evaluation.landscape import LandscapeFov, eps_grid, landscape, min_samples_grid
from miro.evaluation.metrics import FovRecord, evaluate_fovs
from miro.evaluation.stats import paired_tests
from miro.outputs.study_figures import fig3, fig4a, fig5, landscape_figure, plot_classes
from miro.studies.adjacent import summarise
from miro.studies.shapes import confusion_table

NAMES = ["spot", "ellipse"]


def degraded(truth: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return np.where(rng.random(len(truth)) < 0.2, 0, truth)


def metrics(frames: dict[int, pd.DataFrame], dataset: str, column: str) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    records = [
        FovRecord(
            dataset,
            fov,
            f[["x", "y"]].to_numpy(),
            f[column].to_numpy(),
            {"MIRO": f[column].to_numpy(), "DBSCAN": degraded(f[column].to_numpy(), rng)},
        )
        for fov, f in frames.items()
    ]
    return evaluate_fovs(records, metrics=["ARI_dagger", "IoU", "JI_c", "RMSRE_N"])


def assert_images(png, pdf, min_size=(500, 300)):
    with Image.open(png) as image:
        assert image.size[0] > min_size[0] and image.size[1] > min_size[1]
    assert pdf.read_bytes()[:4] == b"%PDF"


def test_fig3(tmp_path):
    frames = {i: simulate_fov("multishape", i, n_clusters=(3, 4), fov_size=2400) for i in (1, 2, 3)}
    frame = frames[1]
    truth, classes = frame["index"].to_numpy(), frame["class"].to_numpy()
    example = {
        "coords": frame[["x", "y"]].to_numpy(),
        "names": NAMES,
        "fov": 1,
        "labels": {"MIRO": (truth, np.where(truth > 0, 1, 0)), "Ground truth": (truth, classes)},
    }
    pairs = pd.DataFrame({"true_class": [1, 1, 2, 2, 2], "pred_class": [1, 1, 2, 1, 2]})
    long_df = metrics(frames, "Shapes", "index")
    png, pdf = tmp_path / "fig3.png", tmp_path / "fig3.pdf"
    fig3(example, confusion_table(pairs, NAMES), long_df, paired_tests(long_df), "Shapes", png, pdf)
    assert_images(png, pdf)


def test_fig5(tmp_path):
    frames = {i: simulate_fov("multiscale_rings", i, n_rings=(5, 6)) for i in (1, 2, 3)}
    levels = {"rings": "index_coarse", "spots": "index"}
    long_df = pd.concat([metrics(frames, f"NPC {lv}", col) for lv, col in levels.items()])
    frame = frames[2]
    examples = {
        level: {
            "coords": frame[["x", "y"]].to_numpy(),
            "fov": 2,
            "labels": dict.fromkeys(("DBSCAN", "MIRO", "Ground truth"), frame[col].to_numpy()),
        }
        for level, col in levels.items()
    }
    datasets = {level: f"NPC {level}" for level in levels}
    png, pdf = tmp_path / "fig5.png", tmp_path / "fig5.pdf"
    fig5(examples, long_df, paired_tests(long_df), datasets, "NPC", png, pdf)
    assert_images(png, pdf, (500, 900))
    with pytest.raises(ValueError, match="no metrics"):
        fig5(examples, long_df, paired_tests(long_df), {"rings": "other"}, "NPC", png, pdf)


def test_fig4a(tmp_path):
    rows = [
        (d, f, m, min(1.0, 0.2 * d + (0.1 if m == "MIRO" else 0.0) + 0.01 * f))
        for d in (0.5, 1.0, 2.0, 4.0)
        for f in range(1, 6)
        for m in ("DBSCAN", "MIRO")
    ]
    scan = pd.DataFrame(rows, columns=["distance", "fov", "method", "JI_c"])
    png, pdf = tmp_path / "fig4a.png", tmp_path / "fig4a.pdf"
    fig4a(scan, summarise(scan), "Pairs", png, pdf)
    assert_images(png, pdf)


def test_plot_classes_rejects_unknown_classes():
    ax = Figure().subplots()
    coords = np.random.default_rng(0).uniform(0, 100, (10, 2))
    plot_classes(ax, coords, np.r_[np.zeros(5, int), np.ones(5, int)], NAMES, "ok")
    with pytest.raises(ValueError, match="outside"):
        plot_classes(ax, coords, np.full(10, 3), NAMES, "bad")


def landscape_table() -> pd.DataFrame:
    frame = simulate_fov("benchmark", 0, scenario=8, blinking=False)
    coords, truth = frame[["x", "y"]].to_numpy(), frame["index"].to_numpy()
    fovs = [LandscapeFov(coords, coords, truth)]
    eps, min_samples = eps_grid([5, 120], 6), min_samples_grid([2, 20], 4)
    return pd.concat(
        [
            landscape(fovs, eps, min_samples, {"eps": 30, "min_samples": 6}, method)
            for method in ("DBSCAN", "MIRO")
        ]
    )


def test_landscape_figure(tmp_path):
    table = landscape_table()
    landscape_figure(table, "S8 (preset: tiny)", tmp_path / "landscape.png")
    with Image.open(tmp_path / "landscape.png") as image:
        assert image.size[0] > 900 and image.size[1] > 900  # 2 x 2 heatmaps
    landscape_figure(table[table["method"] == "MIRO"], "MIRO only", tmp_path / "one.png")
    with Image.open(tmp_path / "one.png") as image:
        assert image.size[0] < 900  # one column
    with pytest.raises(ValueError, match="no method"):
        landscape_figure(table.assign(method="other"), "none", tmp_path / "none.png")
    assert not (tmp_path / "none.png").exists()
