"""Tests for miro.core.training: determinism, resume after interruption, checkpoints, loss log."""

from __future__ import annotations

import csv
import logging
from dataclasses import replace

import numpy as np
import pytest
import torch

from miro.core.checkpoint import load_checkpoint, save_checkpoint, training_record
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
    assert set(rows[0]) == {"epoch", "loss", "L_r", "L_d", "L_ce", "seconds", "peak_mb"}
    assert all(float(r["peak_mb"]) > 50 for r in rows)  # this process's peak RSS, MiB
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


def _messages(run_dir, graphs, cfg):
    lines: list[str] = []
    return weights(train(graphs, cfg, run_dir, log=lines.append)), lines


def test_other_settings_start_afresh_and_say_which_changed(graphs, cfg, tmp_path):
    train(graphs, replace(cfg, epochs=1), tmp_path / "run")
    changed = replace(cfg, lr=1e-2, width=8)
    restarted, lines = _messages(tmp_path / "run", graphs, changed)
    assert "last.pt is not resumed" in lines[0] and "training from scratch" in lines[0]
    assert "lr 0.001 -> 0.01" in lines[0] and "width 16 -> 8" in lines[0]
    assert [line.split(",")[0] for line in lines[1:]] == ["epoch 1", "epoch 2", "epoch 3"]
    assert_same_weights(restarted, weights(train(graphs, changed, tmp_path / "fresh")))


def test_changed_training_graphs_start_afresh(graphs, cfg, tmp_path):
    """Probe: more augmented graphs (n_graphs 32 -> 48) must not "resume" the finished run."""
    old = weights(train(graphs[:4], cfg, tmp_path / "run"))
    restarted, lines = _messages(tmp_path / "run", graphs, cfg)
    assert "the training graphs changed" in lines[0] and len(lines) == 1 + cfg.epochs
    assert_same_weights(restarted, weights(train(graphs, cfg, tmp_path / "fresh")))
    assert not torch.equal(restarted["head.weight"], old["head.weight"])
    # same number of graphs, one coordinate moved: a new definition too
    moved = [g.clone() for g in graphs]
    moved[2].x[0, 0] += 1e-6
    assert "the training graphs changed" in _messages(tmp_path / "run", moved, cfg)[1][0]


def test_fewer_epochs_than_done_start_afresh(graphs, cfg, tmp_path):
    train(graphs, cfg, tmp_path / "run")
    shorter = replace(cfg, epochs=2)
    restarted, lines = _messages(tmp_path / "run", graphs, shorter)
    assert "it has 3 epochs, more than the 2 asked for" in lines[0]
    assert_same_weights(restarted, weights(train(graphs, shorter, tmp_path / "fresh")))


def test_more_epochs_or_other_device_resume(graphs, cfg, tmp_path):
    train(graphs, replace(cfg, epochs=2), tmp_path / "run")
    resumed, lines = _messages(tmp_path / "run", graphs, replace(cfg, device="cpu"))
    assert [line.split(",")[0] for line in lines] == ["epoch 3"]  # epochs 1-2 not repeated
    assert_same_weights(resumed, weights(train(graphs, cfg, tmp_path / "full")))
    again, lines = _messages(tmp_path / "run", graphs, cfg)  # finished: nothing to train
    assert lines == [] and len(load_checkpoint(tmp_path / "run" / "model.pt").history) == 3
    assert_same_weights(again, resumed)


def test_unreadable_epoch_checkpoint_starts_afresh(graphs, cfg, tmp_path):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "last.pt").write_bytes(b"PK\x03\x04 cut short")
    restarted, lines = _messages(tmp_path / "run", graphs, cfg)
    assert "last.pt cannot be resumed" in lines[0] and "training from scratch" in lines[0]
    assert_same_weights(restarted, weights(train(graphs, cfg, tmp_path / "fresh")))


@pytest.mark.slow
def test_two_thread_cpu_training_is_bit_reproducible(tmp_path):
    """Probe: with torch.set_num_threads(2) two clean runs differed in their weights (the
    gradient of gathering node positions onto edges summed in a thread-dependent order)."""
    rng = np.random.default_rng(3)
    many = []
    for _ in range(16):  # ~9,000 edges per batch of 4: enough for the kernels to use threads
        centres = rng.uniform(0.1, 0.9, (15, 2))
        clusters = [rng.normal(c, 0.02, (20, 2)) for c in centres]
        points = np.concatenate([*clusters, rng.random((100, 2))])
        labels = np.r_[np.repeat(np.arange(1, 16), 20), np.zeros(100, int)]
        many.append(build_graph(points, 0.2, labels=labels))
    cfg = TrainConfig(radius=0.2, width=8, steps=3, batch_size=4, epochs=4, seed=1, lr=1e-3)
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        first = weights(train(many, cfg, tmp_path / "a"))
        second = weights(train(many, cfg, tmp_path / "b"))
    finally:
        torch.set_num_threads(threads)
    assert_same_weights(first, second)


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


def test_training_record_reads_settings_and_graphs_without_the_network(tmp_path):
    path = tmp_path / "m.pt"
    save_checkpoint(path, MIRO(width=8, steps=2), radius=0.1, train={"lr": 1e-3}, n_graphs=6)
    assert training_record(path) == ({"lr": 1e-3}, 6)
    torch.save({"train": {"width": 4}}, tmp_path / "other.pt")  # any trained network's file
    assert training_record(tmp_path / "other.pt") == ({"width": 4}, None)
    torch.save({"weights": torch.zeros(2)}, tmp_path / "bare.pt")
    with pytest.raises(ValueError, match=r"bare\.pt: not a trained checkpoint"):
        training_record(tmp_path / "bare.pt")


def test_same_model_gives_same_checkpoint_bytes(tmp_path):
    """torch.save names its archive after the file: the temporary name must not reach it."""
    model = MIRO(width=8, steps=2)
    save_checkpoint(tmp_path / "a.pt", model, radius=0.1, train={"seed": 1})
    save_checkpoint(tmp_path / "b.pt", model, radius=0.1, train={"seed": 1})
    first = (tmp_path / "a.pt").read_bytes()
    assert first == (tmp_path / "b.pt").read_bytes() and b".tmp." not in first


def test_truncated_checkpoint_names_file_and_what_to_do(tmp_path):
    path = tmp_path / "model.pt"
    save_checkpoint(path, MIRO(width=8, steps=2), radius=0.1)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(ValueError) as err:
        load_checkpoint(path)
    message = str(err.value)
    assert str(path) in message and "not a readable checkpoint" in message
    assert "delete it and re-run" in message


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
