"""Tests for miro.core.training: determinism, resume after interruption, checkpoints, loss log."""

from __future__ import annotations

import csv
import functools
import logging
from dataclasses import replace

import numpy as np
import pytest
import torch
from torch_geometric.loader import DataLoader

from miro.core import training
from miro.core.checkpoint import build_model, load_checkpoint, save_checkpoint, training_record
from miro.core.graph import build_graph
from miro.core.losses import LossInputs, loss_inputs, miro_loss_terms
from miro.core.model import MIRO
from miro.core.training import (
    EagerStep,
    FastStep,
    TrainConfig,
    bucket,
    jobs_per_gpu,
    pad_batch,
    train,
)

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


# The fast step's tolerance: float32 rounding of sums taken in another order (compiled kernels,
# padded means), never a change of the math.
FAST_RTOL, FAST_ATOL = 1e-5, 1e-6


def step_losses(step_cls, graphs, cfg, steps, **kw):
    """Per-step losses [loss, L_r, L_d, L_ce] and final parameters of ``steps`` Adam steps."""
    torch.manual_seed(cfg.seed)
    model = build_model(
        "miro",
        width=cfg.width,
        steps=cfg.steps,
        node_features=5,
        edge_features=3,
        num_classes=cfg.num_classes,
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    step = step_cls(model, cfg, torch.device("cpu"), **kw)
    batches = DataLoader(
        graphs,
        batch_size=cfg.batch_size,
        shuffle=True,
        generator=torch.Generator().manual_seed(cfg.seed),
    )
    curve = []
    while len(curve) < steps:
        for batch in batches:
            loss, parts = step(batch)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            curve.append(parts.tolist())
    return np.array(curve[:steps]), model.state_dict()


def test_bucket_sizes_bound_the_padding():
    sizes = [bucket(n) for n in range(1, 5000)]
    assert all(n <= b <= max(8, 1.25 * n) for n, b in zip(range(1, 5000), sizes, strict=True))
    assert len(set(sizes[1000:2000])) == 5  # 1024 .. 2048: four buckets per octave
    assert [bucket(n) for n in (8, 9, 1500, 1537)] == [8, 10, 1536, 1792]


def test_padded_batch_has_the_batch_loss_and_gradients(graphs, cfg):
    batch = next(iter(DataLoader(graphs[:3], batch_size=3)))
    torch.manual_seed(0)
    model = MIRO(width=16, steps=3)
    inputs = loss_inputs(batch, model.steps)

    def loss_and_grads(x, edge_index, edge_attr, inputs: LossInputs):
        model.zero_grad()
        loss, parts = miro_loss_terms(model(x, edge_index, edge_attr), inputs, alpha=10.0)
        loss.backward()
        return parts, [p.grad.clone() for p in model.parameters()]

    plain = loss_and_grads(batch.x, batch.edge_index, batch.edge_attr, inputs)
    padded_args = pad_batch(batch.x, batch.edge_index, batch.edge_attr, inputs)
    assert padded_args[0].shape[0] == bucket(batch.num_nodes + 1) > batch.num_nodes
    assert padded_args[1].shape[1] == bucket(batch.num_edges)
    padded = loss_and_grads(*padded_args)
    torch.testing.assert_close(padded[0], plain[0], rtol=FAST_RTOL, atol=FAST_ATOL)
    for a, b in zip(padded[1], plain[1], strict=True):
        torch.testing.assert_close(a, b, rtol=FAST_RTOL, atol=FAST_ATOL)


def test_fast_step_follows_the_eager_loss_curve(graphs, cfg):
    """30 Adam steps of the padded, compiled step (backend aot_eager: the captured and
    differentiated graph that inductor compiles; inductor itself is the slow test below)."""
    eager, eager_weights = step_losses(EagerStep, graphs, cfg, 30)
    fast, fast_weights = step_losses(FastStep, graphs, cfg, 30, pad=True, backend="aot_eager")
    assert eager[-1, 0] < eager[0, 0]  # it learns, so the curves compare real training
    np.testing.assert_allclose(fast, eager, rtol=FAST_RTOL, atol=FAST_ATOL)
    for key, value in eager_weights.items():
        torch.testing.assert_close(fast_weights[key], value, rtol=FAST_RTOL, atol=FAST_ATOL)


@pytest.mark.slow
def test_inductor_compiled_step_follows_the_eager_loss_curve(graphs, cfg):
    """What ``fast: true`` runs on CPU: C++ kernels from inductor (about 2 min to compile here)."""
    eager, _ = step_losses(EagerStep, graphs, cfg, 6)
    fast, _ = step_losses(FastStep, graphs, cfg, 6, pad=True)
    np.testing.assert_allclose(fast, eager, rtol=FAST_RTOL, atol=FAST_ATOL)


def test_fast_training_equals_eager_and_resumes_either_way(graphs, cfg, tmp_path, monkeypatch):
    monkeypatch.setattr(
        training, "FastStep", functools.partial(FastStep, pad=True, backend="aot_eager")
    )
    eager = train(graphs, cfg, tmp_path / "eager")
    fast = train(graphs, replace(cfg, fast=True), tmp_path / "fast")
    for key, value in weights(eager).items():
        torch.testing.assert_close(weights(fast)[key], value, rtol=FAST_RTOL, atol=FAST_ATOL)
    losses = [
        np.loadtxt(tmp_path / d / "losses.csv", delimiter=",", skiprows=1, usecols=range(1, 5))
        for d in ("eager", "fast")
    ]
    np.testing.assert_allclose(losses[1], losses[0], rtol=FAST_RTOL, atol=FAST_ATOL)
    # an execution setting: an eager run resumes a fast one's epochs
    messages = []
    train(graphs, replace(cfg, epochs=4), tmp_path / "fast", log=messages.append)
    assert [m.split(",")[0] for m in messages] == ["epoch 4"]


def test_jobs_per_gpu():
    assert jobs_per_gpu(143_771, 2_000) == 64  # an H200, 2 GB jobs, 10 % kept free
    assert jobs_per_gpu(16_000, 9_000) == 1
    assert jobs_per_gpu(8_000, 9_000) == 0
    assert jobs_per_gpu(1000, 100, reserve=0.0) == 10
    with pytest.raises(ValueError, match="job_mb > 0"):
        jobs_per_gpu(1000, 0)
