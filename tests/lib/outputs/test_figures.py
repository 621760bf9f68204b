"""Tests for miro.outputs.figures: cluster colours, the Fig. 2 panel."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from PIL import Image

from miro.evaluation.stats import paired_tests
from miro.outputs.figures import (
    CLUSTER_PALETTE,
    FIG2_METRICS,
    NOISE_COLOR,
    cluster_colors,
    fig2,
    metric_boxes,
    plot_fov,
)
from miro.outputs.tables import STATS_COLUMNS, TABLE1_COLUMNS

DATASET = "Multiple Blinking - Scenario 8"


@pytest.fixture(scope="module")
def example() -> dict:
    """A 2000 nm FOV: 12 Gaussian clusters of 40 localizations on 300 background ones."""
    rng = np.random.default_rng(3)
    centers = rng.uniform(200, 1800, size=(12, 2))
    coords = np.concatenate([rng.normal(c, 20, size=(40, 2)) for c in centers])
    coords = np.concatenate([coords, rng.uniform(0, 2000, size=(300, 2))])
    truth = np.concatenate([np.repeat(np.arange(1, 13), 40), np.zeros(300, dtype=int)])
    dbscan = np.where(rng.random(len(truth)) < 0.2, 0, truth)
    return {"coords": coords, "labels": {"DBSCAN": dbscan, "MIRO": truth, "Ground truth": truth}}


@pytest.fixture(scope="module")
def long_df() -> pd.DataFrame:
    rng = np.random.default_rng(5)
    rows = [
        {"dataset": DATASET, "fov": f, "method": m, "metric": k, "value": rng.uniform()}
        for f in range(10)
        for m in ("MIRO", "DBSCAN")
        for k in TABLE1_COLUMNS
    ]
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def stats_df() -> pd.DataFrame:
    stars = ["****", "**", "ns", "*"]
    rows = [
        [DATASET, m, 10, 0.6, 0.1, 0.5, 0.1, 50.0, 1e-3, 0.6, s]
        for m, s in zip(FIG2_METRICS, stars, strict=True)
    ]
    return pd.DataFrame(rows, columns=STATS_COLUMNS)


def test_cluster_colors():
    labels = np.array([0, 5, 5, 9, 0, 2, *range(100, 100 + len(CLUSTER_PALETTE))])
    colors = cluster_colors(labels)
    assert colors.shape == (len(labels), 4)
    assert np.allclose(colors[[0, 4]], to_rgba(NOISE_COLOR))
    assert np.array_equal(colors[1], colors[2])
    clusters = np.unique(labels[labels != 0])
    first = {tuple(colors[labels == k][0]) for k in clusters[: len(CLUSTER_PALETTE)]}
    assert len(first) == len(CLUSTER_PALETTE)
    assert to_rgba(NOISE_COLOR) not in first
    # the palette cycles: the (len + 1)-th cluster repeats the first cluster's colour
    assert np.array_equal(colors[labels == clusters[len(CLUSTER_PALETTE)]][0], colors[5])


def test_plot_fov_rejects_bad_shapes(example):
    ax = Figure().subplots()
    with pytest.raises(ValueError, match="labels"):
        plot_fov(ax, example["coords"], example["labels"]["MIRO"][:-1], "x")
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        plot_fov(ax, example["coords"][:, :1], example["labels"]["MIRO"], "x")


def test_metric_boxes_draws_pairs_and_stars(long_df, stats_df):
    ax = Figure().subplots()
    metric_boxes(ax, long_df, "IoU", stats_df.iloc[1])
    assert [t.get_text() for t in ax.texts] == ["**"]
    assert ax.get_ylim()[1] > long_df.loc[long_df["metric"] == "IoU", "value"].max()
    ax = Figure().subplots()
    metric_boxes(ax, long_df, "JI_c", stats_df.iloc[2])
    assert [t.get_text() for t in ax.texts] == ["ns"]
    with pytest.raises(ValueError, match="not 'IoU'"):
        metric_boxes(Figure().subplots(), long_df, "IoU", stats_df.iloc[0])
    with pytest.raises(ValueError, match="DBSCAN"):
        metric_boxes(Figure().subplots(), long_df[long_df["method"] == "MIRO"], "IoU")


def test_fig2_writes_png_and_pdf(example, long_df, tmp_path):
    stats_df = paired_tests(long_df)
    png, pdf = tmp_path / "fig2.png", tmp_path / "fig2.pdf"
    fig2({**example, "fov": 7}, long_df, stats_df, DATASET, png, pdf)
    with Image.open(png) as image:
        assert image.format == "PNG"
        assert image.size[0] > 1000 and image.size[1] > 600
    assert png.stat().st_size > 20_000
    assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 10_000
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fig2.pdf", "fig2.png"]

    pdf2 = tmp_path / "again.pdf"
    fig2({**example, "fov": 7}, long_df, stats_df, DATASET, tmp_path / "again.png", pdf2)
    assert pdf2.read_bytes() == pdf.read_bytes()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda ex, lg, st: (ex, lg[lg["method"] != "MIRO"], st), "MIRO"),
        (lambda ex, lg, st: (ex, lg, st[st["metric"] != "RMSRE_N"]), "RMSRE_N"),
        (lambda ex, lg, st: (ex, lg[lg["metric"] != "JI_c"], st), "JI_c"),
        (lambda ex, lg, st: ({"coords": ex["coords"], "labels": {}}, lg, st), "Ground truth"),
        (lambda ex, lg, st: (ex, lg.assign(dataset="other"), st), "not in the metrics table"),
    ],
)
def test_fig2_rejects_incomplete_input(example, long_df, stats_df, tmp_path, change, message):
    with pytest.raises(ValueError, match=message):
        fig2(*change(example, long_df, stats_df), DATASET, tmp_path / "a.png", tmp_path / "a.pdf")
    assert not list(tmp_path.iterdir())


def test_metric_boxes_without_paired_values_draws_a_note():
    long_df = pd.DataFrame(
        {
            "dataset": "d",
            "fov": [1, 1],
            "method": ["MIRO", "DBSCAN"],
            "metric": "RMSRE_N",
            "value": [np.nan, np.nan],
        }
    )
    ax = Figure().subplots()
    metric_boxes(ax, long_df, "RMSRE_N")
    assert "no FOV" in ax.texts[0].get_text()
