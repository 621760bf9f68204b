"""Tests for miro.studies.ablations: depth-ablation metrics, Supp. Figs. 2 and 3, Supp. Tables 7-9,
the ablation targets and the variants of the width and loss-weight ablations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image
from torch import nn

from miro.config import TOP_LEVEL, benchmark_row, resolve_config
from miro.core.checkpoint import load_checkpoint, save_checkpoint
from miro.core.graph import build_graph, fov_graph
from miro.core.model import MIRO, MIROOutput
from miro.core.mpnn import MPNN
from miro.core.training import TrainConfig, config_from_settings, train
from miro.data.simulate import simulate_dataset
from miro.evaluation.metrics import METRICS
from miro.studies.ablations import (
    ABLATION_FOLDER,
    ALPHA_BLINKING_COLUMNS,
    HYPERPARAMETER_COLUMNS,
    ablation_targets,
    ablation_variants,
    blinking_alphas,
    collect_runs,
    depth_ablation_metrics,
    hyperparameter_table,
    plot_alpha_blinking,
    plot_steps_ablation,
    steps_data_settings,
    steps_runs,
    variant_run,
    variant_summary,
    variant_table,
    variant_training,
    weight_name,
    write_hyperparameters,
    write_variant_table,
)

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
    payloads = {name: load_checkpoint(path) for name, path in paths.items()}
    table = hyperparameter_table(payloads).set_index("dataset")

    assert list(table.reset_index().columns) == list(HYPERPARAMETER_COLUMNS)
    for name, path in paths.items():
        model = load_checkpoint(path).model
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


def test_steps_data_settings_follow_the_section_and_the_scenario_6_folder():
    steps = {**TOP_LEVEL["ablations"]["steps"], "n_fovs": 9, "n_graphs": 600, "width": 32}
    settings = steps_data_settings(steps)
    row = benchmark_row(ABLATION_FOLDER)
    assert settings["model"]["radius"] == row["connectivity_radius_normalized"]
    assert settings["model"]["width"] == 32 and settings["n_fovs"] == 9
    assert settings["augment"]["n_graphs"] == 600 and settings["augment"]["chunks"] >= 1
    assert settings["params"] == {"scenario": row["scenario"], "blinking": bool(row["blinking"])}
    assert settings["n_train"] == 3 and settings["train"]["epochs"] == steps["epochs"]


def test_ablation_targets_per_key():
    hyper = ["r/tables/hyperparameters.csv", "r/tables/hyperparameters.md"]
    assert ablation_targets({"datasets": {}}, "r") == hyper
    assert ablation_targets({"datasets": {}, "ablations": {}}, "r") == hyper
    steps = ["r/ablations/steps.csv", "r/ablations/steps.png", "r/ablations/steps.pdf"]
    assert ablation_targets({"ablations": {"steps": {}}}, "r") == hyper + steps
    everything = {
        "steps": {},
        "width": {"dataset": "A"},
        "loss_weights": {"dataset": "A"},  # default alpha, beta and blinking_alpha
        "single_shot": ["B"],
        "magik": {"datasets": ["A"]},
    }
    names = [
        p.removeprefix("r/ablations/") for p in ablation_targets({"ablations": everything}, "r")
    ]
    assert names[2:] == [
        *("steps.csv", "steps.png", "steps.pdf", "width.csv", "width.md"),
        *("loss_weights.csv", "loss_weights.md"),
        *("alpha_blinking.csv", "alpha_blinking.png", "alpha_blinking.pdf"),
        *("single_shot.csv", "single_shot.md", "single_shot.tex", "magik.csv", "magik.md"),
    ]
    # Supp. Fig. 3 needs the steps data; empty lists leave their files out
    no_steps = {"loss_weights": {"dataset": "A"}, "single_shot": []}
    assert ablation_targets({"ablations": no_steps}, "r")[2:] == [
        "r/ablations/loss_weights.csv",
        "r/ablations/loss_weights.md",
    ]
    blinking_only = {"steps": {}, "loss_weights": {"dataset": "A", "alpha": [], "beta": []}}
    assert (
        ablation_targets({"ablations": blinking_only}, "r")[-1] == "r/ablations/alpha_blinking.pdf"
    )
    no_blinking = {"steps": {}, "loss_weights": {"dataset": "A", "blinking_alpha": []}}
    assert ablation_targets({"ablations": no_blinking}, "r")[-1] == "r/ablations/loss_weights.md"


SHAPES_CONFIG = {
    "datasets": {
        "Shapes": {
            "source": "simulate",
            "family": "multishape",
            "settings": {"model": {"width": 8}, "train": {"alpha": 10, "beta": 0.15}},
        }
    },
    "ablations": {
        "width": {"dataset": "Shapes", "widths": [4, 8]},
        "loss_weights": {"dataset": "Shapes", "alpha": [0, 10], "beta": [0.1, 0.15]},
    },
}


def test_variants_share_runs_with_equal_settings():
    settings = resolve_config(SHAPES_CONFIG)
    assert ablation_variants(settings, "width") == [
        ({"width": 4}, "w4_a10_b0.15"),
        ({"width": 8}, "w8_a10_b0.15"),
    ]
    loss = ablation_variants(settings, "loss_weights")
    assert [key for key, _ in loss] == [
        {"weight": "alpha", "value": 0.0},
        {"weight": "alpha", "value": 10.0},
        {"weight": "beta", "value": 0.1},
        {"weight": "beta", "value": 0.15},
    ]
    runs = [run for _, run in loss]
    assert runs == ["w8_a0_b0.15", "w8_a10_b0.15", "w8_a10_b0.1", "w8_a10_b0.15"]
    assert len(set(runs) | {"w8_a10_b0.15"}) == 3  # the dataset's own settings: one run
    assert ablation_variants(resolve_config({"datasets": {}}), "width") == []
    with pytest.raises(ValueError, match="steps"):
        ablation_variants(settings, "steps")
    with pytest.raises(ValueError, match="lr"):
        variant_run(settings["datasets"]["Shapes"], lr=1.0)
    assert weight_name(10) == weight_name(10.0) == "10" and weight_name(0.15) == "0.15"
    assert weight_name(1e-5) == "1e-05" and float(weight_name(0.1 + 0.05)) == 0.1 + 0.05


def test_variant_training_changes_beta_only_when_asked():
    settings = resolve_config(SHAPES_CONFIG)["datasets"]["Shapes"]
    assert variant_training(settings, {"width": 4}) == {"width": 4, "alpha": 10.0}
    beta = variant_training(settings, {"weight": "beta", "value": 0.1})
    assert beta == {"width": 8, "alpha": 10.0, "beta": 0.1}
    alpha = variant_training(settings, {"weight": "alpha", "value": 0.0})
    assert alpha == {"width": 8, "alpha": 0.0}


def test_steps_runs_cover_both_architectures_and_the_blinking_alphas():
    settings = resolve_config(
        {
            "datasets": {},
            "ablations": {"steps": {"depths": [1, 3], "repeats": 2}, "loss_weights": {}},
        }
    )
    data = steps_data_settings(settings["ablations"]["steps"])
    runs = steps_runs(settings, data)
    assert len(runs) == 2 * 2 * 2 + 1 * 2 * 2  # default alpha x 2 archs, alpha 0 for MIRO
    train, labels = runs["mpnn_a10_L3_r1"]
    assert train == {"architecture": "mpnn", "steps": 3, "seed": 1, "alpha": 10.0}
    assert labels == {"architecture": "mpnn", "alpha": 10.0, "depth": 3, "repeat": 1}
    assert runs["miro_a0_L1_r0"][0]["alpha"] == 0.0 and "mpnn_a0_L1_r0" not in runs


def test_ablation_overrides_and_beta_needs_a_class_head():
    settings = resolve_config(SHAPES_CONFIG)["datasets"]["Shapes"]
    rng = np.random.default_rng(0)
    points = np.concatenate([rng.normal(0.5, 0.03, (12, 2)), rng.random((20, 2))])
    labels = np.r_[np.ones(12, int), np.zeros(20, int)]
    radius = settings["model"]["radius"]
    plain = [build_graph(points, radius, labels=labels)]
    with_classes = [build_graph(points, radius, labels=labels, classes=labels)]
    cfg = config_from_settings(settings, with_classes, width=4, alpha=0.0, beta=0.5, seed=3)
    assert (cfg.width, cfg.alpha, cfg.beta, cfg.seed, cfg.num_classes) == (4, 0.0, 0.5, 3, 2)
    assert config_from_settings(settings, plain, width=4, alpha=10.0).beta == 0.0
    with pytest.raises(ValueError, match="no classes"):
        config_from_settings(settings, plain, beta=0.1)


def test_blinking_alphas_add_the_steps_runs_alpha():
    steps_settings = steps_data_settings(TOP_LEVEL["ablations"]["steps"])
    assert blinking_alphas({"blinking_alpha": [0]}, steps_settings) == [0.0, 10.0]
    assert blinking_alphas({"blinking_alpha": [10, 0.5]}, steps_settings) == [0.5, 10.0]


class Still(nn.Module):
    """A network that does not move any localization, with fixed class logits."""

    def __init__(self, steps: int = 2, num_classes: int = 0) -> None:
        super().__init__()
        self.steps, self.num_classes = steps, num_classes

    def forward(self, x, edge_index, edge_attr) -> MIROOutput:
        n = x.shape[0]
        logits = torch.zeros(self.steps, n, self.num_classes) if self.num_classes else None
        if logits is not None:
            logits[..., 1] = 1.0  # every localization: shape class 1
        return MIROOutput(torch.zeros(self.steps, n, 2), logits, torch.zeros(n, 3))


@pytest.fixture(scope="module")
def shapes_fovs() -> dict[int, pd.DataFrame]:
    fovs = simulate_dataset("multishape", 4, seed=1, n_clusters=[2, 3], fov_size=2000)
    return dict(enumerate(fovs))


DBSCAN_SETTINGS = {"eps_nm": [5.0, 80.0], "min_samples": [2, 10], "n_trials": 4, "objective": "ARI"}


def fake_metrics(values: dict[int, float]) -> pd.DataFrame:
    """A run's long metrics table: MIRO scores ``values`` per FOV, DBSCAN other scores."""
    return pd.DataFrame(
        [
            {"dataset": "S", "fov": f, "method": method, "metric": m, "value": v + shift}
            for method, shift in (("MIRO", 0.0), ("DBSCAN", 0.1))
            for f, v in values.items()
            for m in METRICS
        ]
    )


DBSCAN = {"eps": 20.0, "min_samples": 4}


def test_variant_summary_table_and_markdown(tmp_path):
    payloads = {}
    for width in (4, 8):
        model = MIRO(width=width, steps=2, num_classes=3)
        path = tmp_path / f"w{width}.pt"
        train_settings = {"alpha": 10.0, "beta": 0.15}
        history = [{"seconds": 1.5}, {"seconds": 2.0 * width}]
        save_checkpoint(path, model, radius=0.1, train=train_settings, history=history)
        payloads[width] = load_checkpoint(path)
    confusion = pd.DataFrame({"F1": [0.5, 1.0]}, index=pd.Index(["spot", "ellipse"]))
    summaries = [
        variant_summary(fake_metrics({0: 0.2, 1: 0.4, 2: 0.6}), payloads[w], DBSCAN, confusion)
        for w in (4, 8)
    ]
    first = summaries[0]
    assert (first["width"], first["alpha"], first["beta"], first["n"]) == (4, 10.0, 0.15, 3)
    assert first["ARI"] == pytest.approx(0.4) and first["ARI_sd"] == pytest.approx(0.2)
    assert (first["F1"], first["F1_spot"], first["F1_ellipse"]) == (0.75, 0.5, 1.0)
    assert first["parameters"] == sum(
        p.numel() for p in MIRO(width=4, steps=2, num_classes=3).parameters()
    )
    assert first["train_seconds"] == pytest.approx(9.5) and first["min_samples"] == 4
    assert summaries[1]["parameters"] > first["parameters"]

    table = variant_table([{"width": 4}, {"width": 8}], summaries)
    assert list(table.columns[:3]) == ["width", "n", "ARI_dagger"] and "alpha" not in table
    csv, md = tmp_path / "width.csv", tmp_path / "width.md"
    write_variant_table(table, csv, md, ablation="width", dataset="Shapes", preset="unit")
    assert pd.read_csv(csv)["parameters"].tolist() == table["parameters"].tolist()
    text = md.read_text()
    assert "Supplementary Table 8" in text and "on Shapes" in text and "preset: unit" in text
    assert "| 4 | 3 | 0.4 ± 0.2 |" in text and "F1 spot" in text and "0.75" in text

    plain = variant_summary(fake_metrics({0: 0.5, 1: 0.5}), payloads[4], DBSCAN)
    assert not any(key.startswith("F1") for key in plain)
    weights = variant_table(
        [{"weight": "alpha", "value": 0.0}, {"weight": "beta", "value": 0.1}], [plain, plain]
    )
    write_variant_table(weights, csv, md, ablation="loss_weights", dataset="Shapes")
    text = md.read_text()
    assert "Supplementary Table 9" in text and "| α | 0 | 2 |" in text and "| β | 0.1 | 2 |" in text
    assert "F1" not in pd.read_csv(csv).columns
    with pytest.raises(ValueError, match="keys"):
        variant_table([{"width": 4}], [])
    with pytest.raises(ValueError, match="key columns"):
        write_variant_table(
            weights.drop(columns=["weight", "value"]), csv, md, ablation="width", dataset="S"
        )


def test_collect_runs_and_plot_alpha_blinking(tmp_path):
    runs = [
        pd.DataFrame(
            [
                {
                    "architecture": "miro",
                    "alpha": alpha,
                    "depth": depth,
                    "repeat": repeat,
                    "compression_index": 0.1 * depth + alpha / 100,
                    "dirichlet_energy": 1.0,
                }
            ]
        )
        for alpha in (10.0, 0.0)
        for depth in (4, 2)
        for repeat in (1, 0)
    ]
    table = collect_runs(runs, ALPHA_BLINKING_COLUMNS)
    assert list(table.columns) == list(ALPHA_BLINKING_COLUMNS)
    assert table[["alpha", "depth", "repeat"]].iloc[0].tolist() == [0.0, 2, 0]
    assert table["alpha"].is_monotonic_increasing
    png, pdf = tmp_path / "alpha.png", tmp_path / "alpha.pdf"
    plot_alpha_blinking(table, png, pdf, default=10.0)
    with Image.open(png) as image:
        assert image.size[0] >= 600
    assert pdf.read_bytes()[:4] == b"%PDF"
    with pytest.raises(ValueError, match="alpha"):
        collect_runs([runs[0].drop(columns="alpha")], ALPHA_BLINKING_COLUMNS)
    with pytest.raises(ValueError, match="compression_index"):
        plot_alpha_blinking(table.drop(columns="compression_index"), png, pdf)
