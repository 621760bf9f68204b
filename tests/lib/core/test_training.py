"""Tests for miro.core.training: determinism, resume after interruption, checkpoints, loss log."""

from __future__ import annotations

import csv
import logging
from dataclasses import replace

import numpy as np
import pytest
import torch

from miro.core.checkpoint import load_checkpoint, save_checkpoint
from miro.core.graph import build_graph
from miro.core.model import MIRO
from miro.core.training import TrainConfig, train

RADIUS = 0.15


@pytest.fixture(scope="module")
def graphs():
    """Six small FOVs: Gaussian clusters in uniform background."""
    rng = np.random.default_rng(0)
    out = []
    for _ in range(6):
        centres = rng.uniform(0.1, 0.9, (4, 2))
        clusters = [rng.normal(c, 0.02, (12, 2)) for c in centres]
        points = np.concatenate([*clusters, rng.random((20, 2))])
        labels = np.r_[np.repeat(np.arange(1, 5), 12), np.zeros(20, int)]
        out.append(build_graph(points, RADIUS, labels=labels))
    return out


@pytest.fixture()
def cfg():
    return TrainConfig(radius=RADIUS, width=16, steps=3, batch_size=2, epochs=3, seed=7, lr=1e-3)


def weights(path):
    return load_checkpoint(path).model.state_dict()


def assert_same_weights(a, b):
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key


def test_same_seed_same_weights_and_loss_log(graphs, cfg, tmp_path, caplog):
    first = train(graphs, cfg, tmp_path / "a")
    with caplog.at_level(logging.INFO, logger="miro.test"):
        second = train(graphs, cfg, tmp_path / "b", log=logging.getLogger("miro.test"))
    assert [r.message.split(",")[0] for r in caplog.records] == ["epoch 1", "epoch 2", "epoch 3"]
    assert_same_weights(weights(first), weights(second))
    other = train(graphs, replace(cfg, seed=8), tmp_path / "c")
    assert not torch.equal(weights(first)["head.weight"], weights(other)["head.weight"])

    rows = list(csv.DictReader((tmp_path / "a" / "losses.csv").open()))
    assert [r["epoch"] for r in rows] == ["1", "2", "3"]
    assert set(rows[0]) == {"epoch", "loss", "L_r", "L_d", "L_ce", "seconds"}
    losses = [float(r["loss"]) for r in rows]
    assert losses[-1] < losses[0]
    for r in rows:
        assert float(r["loss"]) == pytest.approx(float(r["L_r"]) + float(r["L_d"]), rel=1e-5)


def test_resume_after_interruption_matches_uninterrupted(graphs, cfg, tmp_path):
    uninterrupted = train(graphs, cfg, tmp_path / "full")

    def interrupt(message: str) -> None:
        if message.startswith("epoch 2"):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(graphs, cfg, tmp_path / "resumed", log=interrupt)
    assert not (tmp_path / "resumed" / "model.pt").exists()
    assert len(load_checkpoint(tmp_path / "resumed" / "last.pt").payload["history"]) == 2
    resumed = train(graphs, cfg, tmp_path / "resumed")
    assert_same_weights(weights(uninterrupted), weights(resumed))
    rows = list(csv.DictReader((tmp_path / "resumed" / "losses.csv").open()))
    assert [r["epoch"] for r in rows] == ["1", "2", "3"]


def test_resume_with_other_settings_is_refused(graphs, cfg, tmp_path):
    train(graphs, replace(cfg, epochs=1), tmp_path)
    with pytest.raises(ValueError, match=r"last\.pt.*\['lr'\]"):
        train(graphs, replace(cfg, lr=1e-2), tmp_path)


def test_checkpoint_round_trip_and_contents(tmp_path):
    model = MIRO(width=8, steps=2, num_classes=3)
    save_checkpoint(tmp_path / "m.pt", model, radius=0.1, train={"seed": 1})
    checkpoint = load_checkpoint(tmp_path / "m.pt")
    loaded, payload = checkpoint.model, checkpoint.payload
    assert_same_weights(model.state_dict(), loaded.state_dict())
    assert payload["model"] == model.settings() and checkpoint.radius == 0.1
    assert checkpoint.train == {"seed": 1} and checkpoint.fov_nm is None
    assert {"torch", "torch_geometric", "numpy", "miro"} <= payload["versions"].keys()
    assert not list(tmp_path.glob(".*.tmp.*"))  # written via a temporary file, then renamed


def test_broken_or_mismatching_checkpoints_raise(tmp_path):
    broken = tmp_path / "broken.pt"
    broken.write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match=r"broken\.pt"):
        load_checkpoint(broken)
    mismatch = tmp_path / "mismatch.pt"
    save_checkpoint(mismatch, MIRO(width=8, steps=2), radius=0.1)
    payload = torch.load(mismatch, weights_only=True)
    payload["model"]["width"] = 16
    torch.save(payload, mismatch)
    with pytest.raises(ValueError, match=r"mismatch\.pt"):
        load_checkpoint(mismatch)
    other = tmp_path / "other.pt"
    torch.save({"weights": torch.zeros(2)}, other)
    with pytest.raises(ValueError, match=r"other\.pt"):
        load_checkpoint(other)


def test_invalid_training_input(graphs, cfg, tmp_path):
    with pytest.raises(ValueError, match="radius"):
        train(graphs, replace(cfg, radius=0.3), tmp_path)
    with pytest.raises(ValueError, match="no targets"):
        train([build_graph(np.random.default_rng(1).random((10, 2)), RADIUS)], cfg, tmp_path)
