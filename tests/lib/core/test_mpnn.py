"""Tests for miro.core.mpnn: shapes, skip connection, per-layer weights, training through
miro.core.training."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from miro.core.checkpoint import build_model, load_checkpoint, save_checkpoint
from miro.core.graph import build_graph
from miro.core.losses import miro_loss
from miro.core.model import MIRO
from miro.core.mpnn import MPNN
from miro.core.training import TrainConfig, train

RADIUS = 0.3


def n_params(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


@pytest.fixture(scope="module")
def graphs():
    """Four labelled FOVs: Gaussian clusters in uniform background."""
    rng = np.random.default_rng(1)
    out = []
    for _ in range(4):
        centres = rng.uniform(0.2, 0.8, (3, 2))
        points = np.concatenate(
            [*(rng.normal(c, 0.03, (10, 2)) for c in centres), rng.random((15, 2))]
        )
        labels = np.r_[np.repeat([1, 2, 3], 10), np.zeros(15, int)]
        out.append(build_graph(points, RADIUS, labels=labels))
    return out


@pytest.mark.parametrize("num_classes", [0, 3])
def test_output_shapes_fit_the_miro_loss(graphs, num_classes):
    g = graphs[0]
    out = MPNN(width=8, steps=4, num_classes=num_classes)(g.x, g.edge_index, g.edge_attr)
    assert out.displacements.shape == (4, g.num_nodes, 2)
    assert out.hidden.shape == (g.num_nodes, 8)
    assert (out.logits is None) == (num_classes == 0)
    if num_classes:
        assert out.logits.shape == (4, g.num_nodes, num_classes)
    loss, _ = miro_loss(out, g)
    assert torch.isfinite(loss)


def test_zero_update_keeps_the_encoded_features_through_the_skip(graphs):
    g = graphs[0]
    model = MPNN(width=8, steps=3)
    with torch.no_grad():
        for update in model.update:
            update.weight.zero_()
            update.bias.zero_()
    out = model(g.x, g.edge_index, g.edge_attr)
    torch.testing.assert_close(out.hidden, model.node_encoder(g.x))


def test_each_layer_has_its_own_weights(graphs):
    g = graphs[0]
    model = MPNN(width=8, steps=3)
    before = model(g.x, g.edge_index, g.edge_attr).displacements
    with torch.no_grad():
        model.message[1].weight.mul_(3.0)
    after = model(g.x, g.edge_index, g.edge_attr).displacements
    torch.testing.assert_close(after[0], before[0])  # layer 0 does not use layer 1's weights
    assert not torch.allclose(after[1], before[1])


def test_parameters_grow_with_depth_unlike_miro():
    w = 8
    per_layer = (3 * w * w + w) + (2 * w * w + w) + (2 * w + 2)  # message, update, head
    assert n_params(MPNN(width=w, steps=5)) - n_params(MPNN(width=w, steps=2)) == 3 * per_layer
    assert n_params(MIRO(width=w, steps=5)) == n_params(MIRO(width=w, steps=2))


def test_trains_through_miro_train_and_reloads(graphs, tmp_path):
    cfg = TrainConfig(
        radius=RADIUS, architecture="mpnn", width=8, steps=3, batch_size=2, epochs=2, lr=1e-3
    )
    first = train(graphs, cfg, tmp_path / "a")
    second = train(graphs, cfg, tmp_path / "b")
    checkpoint = load_checkpoint(first)
    model, payload = checkpoint.model, checkpoint.payload
    assert isinstance(model, MPNN) and payload["architecture"] == "mpnn"
    assert payload["train"]["architecture"] == "mpnn" and payload["n_graphs"] == len(graphs)
    other = load_checkpoint(second).model.state_dict()
    for key, value in model.state_dict().items():
        assert torch.equal(value, other[key]), key
    # resuming the finished run with more epochs continues the same MPNN
    resumed = TrainConfig(**{**payload["train"], "epochs": 3}, radius=checkpoint.radius)
    more = train(graphs, resumed, tmp_path / "a")
    assert len(load_checkpoint(more).payload["history"]) == 3


def test_checkpoints_without_architecture_load_as_miro(tmp_path):
    path = tmp_path / "old.pt"
    save_checkpoint(path, MIRO(width=4, steps=2), radius=0.1)
    payload = torch.load(path, weights_only=True)
    del payload["architecture"]
    torch.save(payload, path)
    assert isinstance(load_checkpoint(path).model, MIRO)


def test_unknown_architecture_is_named(graphs, tmp_path):
    with pytest.raises(ValueError, match="'gat'"):
        build_model("gat", width=4, steps=2)
    with pytest.raises(ValueError, match="'gat'"):
        train(graphs, TrainConfig(radius=RADIUS, architecture="gat"), tmp_path)
