"""Tests for miro.ablation: depth-ablation metrics, Supp. Fig. 2 plot, Supp. Table 7."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image
from torch import nn

from miro.ablation import (
    ABLATION_FOLDER,
    HYPERPARAMETER_COLUMNS,
    ablation_targets,
    depth_ablation_metrics,
    hyperparameter_table,
    plot_steps_ablation,
    steps_data_settings,
    write_hyperparameters,
)
from miro.graph import build_graph, fov_graph
from miro.model import MIRO, MIROOutput
from miro.mpnn import MPNN
from miro.settings import TOP_LEVEL, benchmark_row
from miro.simulate import simulate_dataset
from miro.train import TrainConfig, load_checkpoint, save_checkpoint, train

RADIUS = 0.1


class Fixed(nn.Module):
    """Stand-in network returning given displacements (last step) and hidden features."""

    def __init__(self, displacement: torch.Tensor, hidden: torch.Tensor) -> None:
        super().__init__()
        self.displacement, self.hidden = displacement, hidden

    def forward(self, x, edge_index, edge_attr) -> MIROOutput:
        return MIROOutput(self.displacement[None], None, self.hidden)


@pytest.fixture(scope="module")
def fov() -> pd.DataFrame:
    return simulate_dataset("benchmark", 1, seed=3, scenario=6, blinking=True)[0]


@pytest.fixture(scope="module")
def graph(fov):
    coords, labels = fov[["x", "y"]].to_numpy(), fov["index"].to_numpy()
    return fov_graph(coords, RADIUS, labels=labels)[0]


def test_perfect_squeeze_has_compression_index_one_and_identity_zero(fov, graph):
    hidden = torch.zeros(graph.num_nodes, 3)
    perfect = depth_ablation_metrics(Fixed(graph.y, hidden), [fov], RADIUS, device="cpu")
    assert perfect["compression_index"] == pytest.approx(1.0, abs=1e-4)
    identity = Fixed(torch.zeros_like(graph.y), hidden)
    assert depth_ablation_metrics(identity, [fov], RADIUS)["compression_index"] == pytest.approx(
        0.0, abs=1e-12
    )
    halfway = depth_ablation_metrics(Fixed(graph.y / 2, hidden), [fov], RADIUS)
    assert halfway["compression_index"] == pytest.approx(0.5, abs=1e-4)


def test_dirichlet_energy_by_hand(fov, graph):
    hidden = torch.from_numpy(np.random.default_rng(0).normal(size=(graph.num_nodes, 4)))
    hidden = hidden.float()
    by_hand = sum(
        float(((hidden[i] - hidden[j]) ** 2).sum()) for i, j in graph.edge_index.T.tolist()
    )
    metrics = depth_ablation_metrics(Fixed(graph.y, hidden), [fov], RADIUS)
    assert metrics["dirichlet_energy"] == pytest.approx(by_hand / graph.num_nodes, rel=1e-5)
    flat = Fixed(graph.y, torch.ones(graph.num_nodes, 4))  # oversmoothed: all nodes equal
    assert depth_ablation_metrics(flat, [fov], RADIUS)["dirichlet_energy"] == 0.0


def test_metrics_are_means_over_fovs_and_deterministic(fov):
    fovs = simulate_dataset("benchmark", 2, seed=5, scenario=6, blinking=True)
    torch.manual_seed(0)
    model = MPNN(width=4, steps=2)
    both = depth_ablation_metrics(model, fovs, RADIUS)
    each = [depth_ablation_metrics(model, [f], RADIUS) for f in fovs]
    for key, value in both.items():
        assert np.isfinite(value)
        assert value == pytest.approx(np.mean([e[key] for e in each]))
    with pytest.raises(ValueError, match="no test FOVs"):
        depth_ablation_metrics(model, [], RADIUS)


def test_plot_steps_ablation(tmp_path):
    rows = [
        {
            "architecture": arch,
            "depth": depth,
            "repeat": repeat,
            "compression_index": 0.1 * depth + 0.01 * repeat,
            "dirichlet_energy": 10.0 / depth + repeat,
        }
        for arch in ("miro", "mpnn")
        for depth in (2, 4)
        for repeat in (0, 1)
    ]
    png, pdf = tmp_path / "steps.png", tmp_path / "steps.pdf"
    plot_steps_ablation(pd.DataFrame(rows), png, pdf)
    with Image.open(png) as image:
        assert image.size[0] > 600
    assert pdf.read_bytes()[:4] == b"%PDF"
    with pytest.raises(ValueError, match="dirichlet_energy"):
        plot_steps_ablation(pd.DataFrame(rows).drop(columns="dirichlet_energy"), png, pdf)


def test_hyperparameter_table_from_real_checkpoints(tmp_path):
    rng = np.random.default_rng(0)
    points = np.concatenate([rng.normal(0.5, 0.03, (12, 2)), rng.random((20, 2))])
    labels = np.r_[np.ones(12, int), np.zeros(20, int)]
    graphs = [build_graph(points, 0.3, labels=labels)] * 3
    paths = {}
    for name, architecture in (("A", "miro"), ("B", "mpnn")):
        cfg = TrainConfig(radius=0.3, architecture=architecture, width=6, steps=3, epochs=1)
        paths[name] = train(graphs, cfg, tmp_path / name)
    paths["P"] = tmp_path / "published.pt"
    save_checkpoint(paths["P"], MIRO(width=5, steps=4), radius=0.2, train={"source": "published"})
    payloads = {name: load_checkpoint(path)[1] for name, path in paths.items()}
    table = hyperparameter_table(payloads).set_index("dataset")

    assert list(table.reset_index().columns) == list(HYPERPARAMETER_COLUMNS)
    for name, path in paths.items():
        model = load_checkpoint(path)[0]
        assert table.loc[name, "parameters"] == sum(p.numel() for p in model.parameters())
        assert table.loc[name, "steps"] == model.steps and table.loc[name, "width"] == model.width
    assert table["architecture"].tolist() == ["miro", "mpnn", "miro"]
    assert table["source"].tolist() == ["trained", "trained", "published"]
    assert table.loc["B", "n_graphs"] == 3 and table.loc["A", "epochs"] == 1
    assert table.loc["A", "alpha"] == TrainConfig(radius=0.3).alpha
    assert pd.isna(table.loc["P", "n_graphs"]) and pd.isna(table.loc["P", "lr"])
    assert table.loc["P", "radius"] == 0.2

    csv, md = tmp_path / "hp.csv", tmp_path / "hp.md"
    write_hyperparameters(table.reset_index(), csv, md, preset="unit")
    again = pd.read_csv(csv)
    assert again["parameters"].tolist() == table["parameters"].tolist()
    text = md.read_text()
    assert "preset: unit" in text and "| P | published | miro |" in text and "–" in text
    with pytest.raises(ValueError, match="'X'"):
        hyperparameter_table({"X": {"model": {}}})


def test_steps_data_settings_follow_the_section_and_the_scenario_6_folder():
    steps = {**TOP_LEVEL["ablations"]["steps"], "n_fovs": 9, "n_graphs": 600, "width": 32}
    settings = steps_data_settings(steps)
    row = benchmark_row(ABLATION_FOLDER)
    assert settings["model"]["radius"] == row["connectivity_radius_normalized"]
    assert settings["model"]["width"] == 32 and settings["n_fovs"] == 9
    assert settings["augment"]["n_graphs"] == 600 and settings["augment"]["chunks"] >= 1
    assert settings["params"] == {"scenario": row["scenario"], "blinking": bool(row["blinking"])}
    assert settings["n_train"] == 3 and settings["train"]["epochs"] == steps["epochs"]


def test_ablation_targets_need_the_section_for_the_steps_files():
    assert ablation_targets({"datasets": {}}, "r") == [
        "r/tables/hyperparameters.csv",
        "r/tables/hyperparameters.md",
    ]
    with_steps = ablation_targets({"datasets": {}, "ablations": {}}, "r")
    assert with_steps[2:] == [
        "r/ablations/steps.csv",
        "r/ablations/steps.png",
        "r/ablations/steps.pdf",
    ]
