"""Tests for miro.studies.magik: the MAGIK-S baseline (Supp. Table 6)."""

from __future__ import annotations

from dataclasses import asdict

import numpy as np
import pandas as pd
import pytest
import torch
from torch_geometric.data import Data

from miro.config import TOP_LEVEL
from miro.core.graph import build_graph
from miro.data.augment import augment_graphs, settings_from_data
from miro.data.simulate import simulate_dataset
from miro.evaluation.metrics import METRICS
from miro.studies.magik import (
    COMPARED,
    COMPARISON_COLUMNS,
    MagikConfig,
    comparison_table,
    edge_targets,
    load_magik,
    louvain_clusters,
    magik_config,
    node_targets,
    predict_labels,
    save_magik,
    stage2_graph,
    train_magik,
    write_comparison,
)

RADIUS = 0.2
TINY = MagikConfig(width=8, layers=1, heads=2, epochs=4, lr=1e-2, batch_size=2, device="cpu")


@pytest.fixture(scope="module")
def fovs():
    return simulate_dataset("benchmark", 3, seed=1, scenario=8, blinking=False)


@pytest.fixture(scope="module")
def graphs(fovs):
    return augment_graphs(fovs[:2], 4, settings_from_data(fovs[:2]), 0, RADIUS)


def test_targets_of_a_hand_built_graph():
    labels = torch.tensor([0, 1, 1, 2, 0])
    edge_index = torch.tensor([[0, 1, 1, 2, 3, 4], [1, 0, 2, 3, 4, 0]])
    assert node_targets(labels).tolist() == [0, 1, 1, 1, 0]
    # background-background (4 -> 0) and different clusters (2 -> 3) are not same-cluster edges
    assert edge_targets(labels, edge_index).tolist() == [0, 0, 1, 0, 0, 0]


def test_stage2_graph_is_the_induced_subgraph_with_edge_targets():
    rng = np.random.default_rng(0)
    points = np.concatenate([rng.normal(0.3, 0.01, (6, 2)), rng.uniform(0, 1, (10, 2))])
    labels = np.r_[np.ones(6, int), np.zeros(10, int)]
    graph = build_graph(points, 0.3, labels=labels)
    sub = stage2_graph(graph, graph.labels != 0)
    assert sub.num_nodes == 6 and sub.num_edges > 0
    assert torch.equal(sub.pos, graph.pos[:6])
    assert sub.target.eq(1).all()  # every edge inside the one cluster


def test_louvain_two_cliques_and_isolated_nodes():
    cliques = [range(0, 4), range(4, 8)]
    pairs = [(i, j) for c in cliques for i in c for j in c if i != j]
    pairs += [(3, 4), (4, 3), (8, 9), (9, 8)]  # weak bridge; a pair too small to be a cluster
    probability = torch.tensor([0.9] * 24 + [0.1, 0.1, 0.95, 0.95])
    labels = louvain_clusters(11, torch.tensor(pairs).T, probability, 0.5, seed=0)
    assert labels.tolist() == [1, 1, 1, 1, 2, 2, 2, 2, 0, 0, 0]


def test_training_reduces_the_loss_and_is_deterministic(graphs):
    model, history = train_magik(graphs, TINY)
    for stage in ("stage1", "stage2"):
        losses = [row["loss"] for row in history[stage]]
        assert losses[-1] < losses[0], (stage, losses)
        assert all(row["seconds"] > 0 for row in history[stage])
    again, _ = train_magik(graphs, TINY)
    for (name, a), b in zip(model.state_dict().items(), again.state_dict().values(), strict=True):
        assert torch.equal(a, b), name


def test_predict_labels_one_label_per_localization(graphs, fovs, tmp_path):
    model, history = train_magik(graphs, MagikConfig(**{**asdict(TINY), "epochs": 1}))
    path = tmp_path / "magik.pt"
    save_magik(path, model, TINY, radius=RADIUS, history=history, n_graphs=len(graphs))
    checkpoint = load_magik(path)
    loaded = checkpoint.model
    assert checkpoint.train_seconds > 0
    assert checkpoint.train_seconds == pytest.approx(checkpoint.payload["train_seconds"])
    assert checkpoint.radius == RADIUS and checkpoint.train["threshold"] == TINY.threshold
    assert {row["stage"] for row in checkpoint.history} == {"stage1", "stage2"}
    first = path.read_bytes()
    save_magik(path, model, TINY, radius=RADIUS, history=history, n_graphs=len(graphs))
    assert path.read_bytes() == first  # no temporary file name inside the archive
    coords = fovs[2][["x", "y"]].to_numpy()
    labels = predict_labels(loaded, coords, RADIUS, 0.5)
    assert labels.shape == (len(coords),) and labels.dtype == np.int64 and labels.min() >= 0
    for k in range(1, labels.max() + 1):
        assert np.count_nonzero(labels == k) >= 3
    assert np.array_equal(labels, predict_labels(model, coords, RADIUS, 0.5))


def test_config_errors_name_the_problem():
    section = {**TOP_LEVEL["ablations"]["magik"], "datasets": ["S8", "GT9"]}
    assert magik_config(section, seed=3).seed == 3
    with pytest.raises(ValueError, match="multiple of heads"):
        magik_config({**section, "width": 10, "heads": 4})
    with pytest.raises(ValueError, match="labelled training graphs"):
        train_magik([Data(pos=torch.zeros(3, 2))], TINY)


def test_comparison_table_and_markdown(tmp_path):
    rng = np.random.default_rng(0)
    long = pd.DataFrame(
        [
            {"dataset": "S8", "fov": f, "method": m, "metric": k, "value": rng.random()}
            for f in (2, 3, 4)
            for m in COMPARED
            for k in METRICS
        ]
    )
    costs = pd.DataFrame(
        [
            {"dataset": "S8", "method": "MAGIK-S", "parameters": 100, "train_seconds": 5.0},
            {"dataset": "S8", "method": "MIRO", "parameters": 50, "train_seconds": 2.0},
        ]
    )
    table = comparison_table(long, costs)
    assert list(table.columns) == list(COMPARISON_COLUMNS)
    assert table["method"].tolist() == list(COMPARED) and table["n"].eq(3).all()
    ari = long[(long["method"] == "MIRO") & (long["metric"] == "ARI")]["value"]
    row = table.set_index("method").loc["MIRO"]
    assert row["ARI"] == pytest.approx(ari.mean()) and row["ARI_sd"] == pytest.approx(ari.std())
    assert pd.isna(table.set_index("method").loc["DBSCAN", "train_seconds"])
    write_comparison(table, tmp_path / "t.csv", tmp_path / "t.md", "tiny")
    markdown = (tmp_path / "t.md").read_text()
    assert "MAGIK-S" in markdown and "±" in markdown and "tiny" in markdown
    with pytest.raises(ValueError, match="same test FOVs"):
        comparison_table(long[~((long["method"] == "DBSCAN") & (long["fov"] == 2))], costs)


def test_load_magik_rejects_a_bad_file(tmp_path):
    junk = tmp_path / "junk.pt"
    junk.write_text("not a checkpoint")
    with pytest.raises(ValueError, match=r"junk\.pt: not a readable checkpoint"):
        load_magik(junk)
    other = tmp_path / "other.pt"
    torch.save({"state_dict": {}}, other)
    with pytest.raises(ValueError, match=r"other\.pt: not a MAGIK-S checkpoint"):
        load_magik(other)
