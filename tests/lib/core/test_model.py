"""Tests for miro.core.model: parameter count, fast forward == literal transcription == inference
path, batching."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from torch_geometric.data import Batch

from miro.core.graph import build_graph, fov_graph
from miro.core.model import MIRO, MIROOutput, literal_forward


def assert_outputs_close(a: MIROOutput, b: MIROOutput, atol: float = 1e-5) -> None:
    torch.testing.assert_close(a.displacements, b.displacements, rtol=0, atol=atol)
    torch.testing.assert_close(a.hidden, b.hidden, rtol=0, atol=atol)
    assert (a.logits is None) == (b.logits is None)
    if a.logits is not None:
        torch.testing.assert_close(a.logits, b.logits, rtol=0, atol=atol)


@pytest.fixture(scope="module")
def benchmark_graph(benchmark_dir):
    frame = pd.read_csv(benchmark_dir / "Ground Truth - Scenario 8" / "diffden_MoleculeList_1.csv")
    return fov_graph(frame[["x", "y"]].to_numpy(), 0.2)[0]


@pytest.fixture(scope="module")
def random_graph():
    return build_graph(np.random.default_rng(0).random((60, 2)), 0.3)


def test_published_parameter_count():
    assert sum(p.numel() for p in MIRO().parameters() if p.requires_grad) == 528_386
    assert sum(p.numel() for p in MIRO(num_classes=3).parameters()) == 528_386 + 256 * 3 + 3


@pytest.mark.parametrize("num_classes", [0, 3])
def test_forward_equals_literal_on_benchmark_fov(benchmark_graph, num_classes):
    torch.manual_seed(0)
    model = MIRO(steps=12, num_classes=num_classes)
    g = benchmark_graph
    with torch.no_grad():
        fast = model(g.x, g.edge_index, g.edge_attr)
        literal = literal_forward(model, g.x, g.edge_index, g.edge_attr)
    assert fast.displacements.shape == (12, g.num_nodes, 2)
    assert fast.hidden.shape == (g.num_nodes, 256)
    assert literal.hidden.abs().max() > 0.1  # the comparison is not between zeros
    assert_outputs_close(fast, literal)


@pytest.mark.parametrize("num_classes", [0, 4])
def test_forward_and_gradients_equal_literal_on_random_graph(random_graph, num_classes):
    torch.manual_seed(1)
    model = MIRO(width=32, steps=5, num_classes=num_classes)
    g = random_graph
    grads, outputs = [], []
    for forward in (model.forward, lambda *a: literal_forward(model, *a)):
        model.zero_grad()
        out = forward(g.x, g.edge_index, g.edge_attr)
        loss = out.displacements.square().sum() + out.hidden.sum()
        if out.logits is not None:
            loss = loss + out.logits.square().sum()
        loss.backward()
        grads.append({n: p.grad.clone() for n, p in model.named_parameters()})
        outputs.append(out)
    assert_outputs_close(*outputs)
    for name in grads[0]:
        torch.testing.assert_close(grads[0][name], grads[1][name], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("num_classes", [0, 3])
def test_infer_equals_forward_at_every_step(benchmark_graph, random_graph, num_classes):
    """The inference path (two edge buffers, stops at ``step``) gives `forward`'s outputs."""
    torch.manual_seed(3)
    model = MIRO(steps=12, num_classes=num_classes)
    for g in (benchmark_graph, random_graph):
        with torch.no_grad():
            full = model(g.x, g.edge_index, g.edge_attr)
        for step in (0, 4, -1):
            displacement, logits = model.infer(g.x, g.edge_index, g.edge_attr, step)
            assert not displacement.requires_grad
            torch.testing.assert_close(displacement, full.displacements[step], rtol=0, atol=1e-5)
            if num_classes:
                torch.testing.assert_close(logits, full.logits[step], rtol=0, atol=1e-5)
            else:
                assert logits is None
    with pytest.raises(ValueError, match="step 12 out of range"):
        model.infer(g.x, g.edge_index, g.edge_attr, 12)


def test_batch_equals_separate_graphs(random_graph):
    other = build_graph(np.random.default_rng(5).random((35, 2)), 0.25)
    torch.manual_seed(2)
    model = MIRO(width=32, steps=4)
    batch = Batch.from_data_list([random_graph, other])
    with torch.no_grad():
        together = model(batch.x, batch.edge_index, batch.edge_attr).displacements
        separate = torch.cat(
            [model(g.x, g.edge_index, g.edge_attr).displacements for g in (random_graph, other)],
            dim=1,
        )
    torch.testing.assert_close(together, separate, rtol=0, atol=1e-6)


def test_isolated_nodes_get_finite_output():
    g = build_graph(np.array([[0.0, 0.0], [0.05, 0.0], [0.0, 0.05], [0.9, 0.9]]), 0.2)
    model = MIRO(width=16, steps=3)
    out = model(g.x, g.edge_index, g.edge_attr)
    assert torch.isfinite(out.displacements).all()
    # an isolated node receives no messages: u = ReLU(update bias), the same at every step
    expected = model.head(torch.relu(model.update.bias))
    torch.testing.assert_close(out.displacements[:, 3], expected.expand(3, 2))


def test_invalid_settings_raise():
    with pytest.raises(ValueError, match="steps"):
        MIRO(steps=0)
