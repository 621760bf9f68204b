"""Training MIRO (paper Methods, "MIRO training and augmentations"; docs/reference.md#training).

Adam (lr 1e-4), mini-batches of 4 graphs, the loss of `miro.core.losses.miro_loss`. ``schedule``
sets the learning rate per optimizer step: ``constant`` (the paper), or ``onecycle`` (linear
warm-up over the first ``warmup`` fraction of the steps to ``lr``, then cosine decay to
``lr / 1e4``; Smith & Topin 2019), which learns in far fewer steps (the CPU recipe,
``benchmarks/bench_learning_curve.py``). ``architecture``
picks the network: MIRO (default) or the conventional `miro.core.mpnn.MPNN` of the recurrent-steps
ablation; checkpoints record it (absent = MIRO, as in older files). After every epoch
the run writes ``last.pt`` (model, optimizer and RNG states, loss history, and the run's
definition: its settings except ``epochs``, ``device`` and ``fast``, and a fingerprint of the
training graphs) and ``losses.csv`` (with the peak memory so far, `peak_memory_mb`). Calling
`train` again on the same definition resumes after the last finished epoch and ends with the
same weights as an uninterrupted run; a changed definition, or fewer epochs than already
trained, starts afresh and logs why (docs/reproducibility.md). The final model is ``model.pt``.
Each mini-batch goes through a pluggable step, `EagerStep` or, with ``fast``, `FastStep` (the
same math compiled; on CUDA as CUDA graphs over padded batches); the loop is the same.
"""

from __future__ import annotations

import logging
import math
import resource
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import Tensor
from torch_geometric.data import Data
from torch_geometric.loader import DataLoader
from tqdm import tqdm

from miro.core.checkpoint import build_model, load_checkpoint, save_checkpoint
from miro.core.losses import LOSS_PARTS, LossInputs, loss_inputs, miro_loss_terms
from miro.core.model import MIRO, resolve_device
from miro.core.mpnn import MPNN
from miro.files import fingerprint, write_csv_atomic

LOSS_COLUMNS = ("epoch", *LOSS_PARTS, "seconds")
MEMORY_COLUMN = "peak_mb"  # losses.csv's last column (`peak_memory_mb`), not a loss
RESUMABLE_CHANGES = {"epochs", "device", "fast"}  # settings that may differ when resuming
SCHEDULES = ("constant", "onecycle")
_log = logging.getLogger(__name__)


@dataclass(kw_only=True)
class TrainConfig:
    """Settings of one training run (defaults: the paper's benchmark settings)."""

    radius: float  # connectivity radius the graphs were built with (normalised units)
    architecture: str = "miro"  # a key of ARCHITECTURES
    fov_nm: float | None = None  # extent of the training FOVs in nm (the windows for new data)
    width: int = 256
    steps: int = 12
    num_classes: int = 0
    alpha: float = 10.0
    beta: float = 0.0
    k_star: int | None = None  # multiscale: steps [0, k*) learn the early targets
    lr: float = 1e-4
    schedule: str = "constant"  # a key of SCHEDULES
    warmup: float = 0.3  # onecycle: fraction of the steps spent warming up
    batch_size: int = 4
    epochs: int = 30
    seed: int = 0
    device: str = "auto"
    fast: bool = False  # the fast training step (`FastStep`): same math, execution only


def fov_extent(fovs: list[np.ndarray]) -> float:
    """Mean extent (nm) of FOVs, max(width, height) each: the scale their normalisation used."""
    if not fovs:
        raise ValueError("no FOVs to measure")
    return float(np.mean([np.ptp(np.asarray(f, float), axis=0).max() for f in fovs]))


def class_head(graphs: list[Data], num_classes: int | None) -> int:
    """Outputs of the class head (paper, "Simultaneous clustering and classification"): the
    configured number, or the graphs' largest class + 1 (0 without classes); fails when the
    configured number cannot hold the graphs' classes."""
    labels = [g.classes for g in graphs if getattr(g, "classes", None) is not None]
    needed = max((int(c.max()) + 1 for c in labels), default=0)
    if num_classes is None:
        return needed
    if labels and num_classes < needed:
        raise ValueError(
            f"model.num_classes {num_classes} is too small for the training classes 0..{needed - 1}"
        )
    if num_classes and not labels:
        raise ValueError(f"model.num_classes {num_classes}: the training data has no class column")
    return num_classes


def switch_step(graphs: list[Data], k_star: int | None, steps: int) -> int | None:
    """k* (paper, "MIRO loss function"): required for multiscale graphs (``y_early``), rejected
    for single-scale ones."""
    multiscale = any(getattr(g, "y_early", None) is not None for g in graphs)
    if multiscale and k_star is None:
        raise ValueError(
            "the training data is multiscale (index_coarse): set train.k_star, the first step "
            "that learns the coarse structures (paper, 'MIRO loss function')"
        )
    if k_star is not None and not multiscale:
        raise ValueError(f"train.k_star {k_star} needs multiscale data (an index_coarse column)")
    if k_star is not None and not 1 <= k_star < steps:
        raise ValueError(f"train.k_star {k_star} must lie in [1, {steps - 1}] for {steps} steps")
    return k_star


def config_from_settings(
    settings: dict[str, Any],
    graphs: list[Data],
    train_fovs: list[np.ndarray] | None = None,
    **overrides: Any,
) -> TrainConfig:
    """The `TrainConfig` of one dataset's resolved settings (`miro.config.dataset_settings`)
    for ``graphs``; ``train_fovs`` (xy arrays) give ``fov_nm``; ``overrides`` (seed, device,
    an ablation's width or loss weights, ...) replace single fields; a beta override needs a
    class head."""
    model, opt = settings["model"], settings["train"]
    steps = int(overrides.pop("steps", model["steps"]))
    num_classes = class_head(graphs, model.get("num_classes"))
    values = {
        "width": model["width"],
        "steps": steps,
        "radius": model["radius"],
        "fov_nm": fov_extent(train_fovs) if train_fovs else None,
        "num_classes": num_classes,
        "alpha": opt["alpha"],
        "beta": opt["beta"] if num_classes else 0.0,
        "k_star": switch_step(graphs, opt.get("k_star"), steps),
        "lr": opt["lr"],
        "schedule": opt["schedule"],
        "warmup": opt["warmup"],
        "batch_size": opt["batch_size"],
        "epochs": opt["epochs"],
    }
    unknown = set(overrides) - {f.name for f in fields(TrainConfig)}
    if unknown:
        raise ValueError(f"unknown training settings {sorted(unknown)}")
    if "beta" in overrides and not num_classes:
        raise ValueError(
            f"beta {overrides['beta']} weighs the classification loss, but the training graphs "
            "have no classes (Methods, 'Loss function weights': beta needs a class head)"
        )
    return TrainConfig(**{**values, **overrides})


def train(
    graphs: list[Data],
    cfg: TrainConfig,
    out_dir: Path,
    *,
    log: logging.Logger | Callable[[str], None] | None = None,
    on_epoch: Callable[[int, torch.nn.Module], None] | None = None,
) -> Path:
    """Train ``cfg.architecture`` on ``graphs``; returns the path of the final checkpoint
    ``model.pt`` (which also records ``n_graphs``, the number of training graphs).

    ``log`` (a logger, or any callable taking a string) receives one line per epoch, and the
    reason when an existing ``last.pt`` is not resumed (without ``log``, this module's logger).
    ``on_epoch(epoch, model)`` is called after every finished epoch (e.g. a learning curve's
    evaluation; its time is not counted in the epoch's ``seconds``).
    """
    if isinstance(log, logging.Logger | logging.LoggerAdapter):
        log = log.info
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    _check_graphs(graphs, cfg)
    definition = run_definition(cfg, graphs)
    device = resolve_device(cfg.device)
    torch.manual_seed(cfg.seed)
    model = build_model(
        cfg.architecture,
        width=cfg.width,
        steps=cfg.steps,
        node_features=graphs[0].num_node_features,
        edge_features=graphs[0].num_edge_features,
        num_classes=cfg.num_classes,
    ).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    generator = torch.Generator().manual_seed(cfg.seed)
    loader = DataLoader(graphs, batch_size=cfg.batch_size, shuffle=True, generator=generator)
    scheduler = learning_rate_schedule(optimizer, cfg, len(loader))

    last = out_dir / "last.pt"
    history: list[dict] = []
    state = _resumable_state(last, definition, cfg.epochs, log or _log.info)
    if state is not None:
        history = _resume(last, state, model, optimizer, generator, scheduler)
    progress = tqdm(range(len(history), cfg.epochs), initial=len(history), total=cfg.epochs)
    step = (FastStep if cfg.fast else EagerStep)(model, cfg, device)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    for epoch in progress:
        start = time.perf_counter()
        totals = np.zeros(len(LOSS_PARTS))
        for batch in loader:
            loss, parts = step(batch)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
            totals += parts.tolist()  # one device sync per step
        means = (totals / len(loader)).tolist()
        row = {"epoch": epoch + 1, **dict(zip(LOSS_PARTS, means, strict=True))}
        row["seconds"] = time.perf_counter() - start
        row[MEMORY_COLUMN] = peak_memory_mb(device)
        history.append(row)
        save_checkpoint(
            last,
            model,
            radius=cfg.radius,
            train=asdict(cfg),
            optimizer=optimizer.state_dict(),
            scheduler=scheduler.state_dict(),
            rng={"torch": torch.get_rng_state(), "loader": generator.get_state()},
            history=history,
            definition=definition,
        )
        table = pd.DataFrame(history, columns=[*LOSS_COLUMNS, MEMORY_COLUMN])
        write_csv_atomic(table, out_dir / "losses.csv")
        progress.set_postfix(loss=f"{row['loss']:.4f}")
        if log is not None:
            log(", ".join(f"{k} {v:.6g}" for k, v in row.items()))
        if on_epoch is not None:
            on_epoch(epoch + 1, model)
    final = out_dir / "model.pt"
    save_checkpoint(
        final,
        model,
        radius=cfg.radius,
        fov_nm=cfg.fov_nm,
        train=asdict(cfg),
        history=history,
        n_graphs=len(graphs),
    )
    return final


class EagerStep:
    """Forward pass and loss of one mini-batch, as written: the reference step of `train`.

    Calling it on a batch returns the loss to back-propagate and its parts ``LOSS_PARTS``
    (`miro.core.losses.miro_loss_terms`); `train` does the rest (backward, optimizer).
    """

    def __init__(self, model: torch.nn.Module, cfg: TrainConfig, device: torch.device) -> None:
        self.model, self.cfg, self.device = model, cfg, device
        self.forward_loss = _forward_loss

    def inputs(self, batch: Data) -> tuple[Tensor, Tensor, Tensor, LossInputs]:
        """Model inputs (x, edge_index, edge_attr) and loss inputs of ``batch``, on the device."""
        batch = batch.to(self.device)
        inputs = loss_inputs(batch, self.cfg.steps, self.cfg.k_star)
        return batch.x, batch.edge_index, batch.edge_attr, inputs

    def __call__(self, batch: Data) -> tuple[Tensor, Tensor]:
        return self.forward_loss(self.model, *self.inputs(batch), self.cfg.alpha, self.cfg.beta)


class FastStep(EagerStep):
    """`EagerStep`'s math, faster (``fast: true``; docs/reference.md#training).

    Forward pass and loss run as one ``torch.compile``d function (fused element-wise work and
    gathers; on CUDA, mode ``reduce-overhead``: replayed CUDA graphs instead of hundreds of
    kernel launches per step). With ``pad`` (default: on CUDA, where every new shape records a
    new graph) each batch is padded to bucketed sizes (`pad_batch`) whose loss is that of the
    batch itself. Matmuls stay float32 (no TF32), so losses and weights equal the eager step's
    within float32 rounding (tests/lib/core/test_training.py states the tolerance); which step
    ran is therefore an execution setting, like the device.
    """

    def __init__(
        self,
        model: torch.nn.Module,
        cfg: TrainConfig,
        device: torch.device,
        *,
        pad: bool | None = None,
        backend: str = "inductor",
    ) -> None:
        super().__init__(model, cfg, device)
        self.cuda = device.type == "cuda"
        self.pad = self.cuda if pad is None else pad
        mode = "reduce-overhead" if self.cuda else None
        self.forward_loss = torch.compile(_forward_loss, dynamic=True, mode=mode, backend=backend)

    def inputs(self, batch: Data) -> tuple[Tensor, Tensor, Tensor, LossInputs]:
        inputs = loss_inputs(batch, self.cfg.steps, self.cfg.k_star)
        tensors = batch.x, batch.edge_index, batch.edge_attr, inputs
        if self.pad:
            tensors = pad_batch(*tensors)
        *model_inputs, inputs = tensors
        move = lambda t: None if t is None else t.to(self.device, non_blocking=True)  # noqa: E731
        return (*map(move, model_inputs), LossInputs(*map(move, inputs)))

    def __call__(self, batch: Data) -> tuple[Tensor, Tensor]:
        if self.cuda:  # the previous step's graph outputs (already read) may be overwritten
            torch.compiler.cudagraph_mark_step_begin()
        return super().__call__(batch)


def _forward_loss(
    model: torch.nn.Module,
    x: Tensor,
    edge_index: Tensor,
    edge_attr: Tensor,
    inputs: LossInputs,
    alpha: float,
    beta: float,
) -> tuple[Tensor, Tensor]:
    return miro_loss_terms(model(x, edge_index, edge_attr), inputs, alpha=alpha, beta=beta)


def bucket(n: int) -> int:
    """``n`` rounded up to one of four sizes per octave (5, 6, 7 or 8 x 2^k, at least 8): at
    most 25 % padding, and few distinct shapes over a data set."""
    if n <= 8:
        return 8
    quarter = 1 << (n.bit_length() - 3)
    return -(-n // quarter) * quarter


def pad_batch(
    x: Tensor, edge_index: Tensor, edge_attr: Tensor, inputs: LossInputs
) -> tuple[Tensor, Tensor, Tensor, LossInputs]:
    """A batch padded to ``bucket(N + 1)`` nodes and ``bucket(E)`` edges, with the same loss.

    The padding nodes have zero features, positions and targets; every padding edge is a
    zero-length self-loop of the first padding node, so no message reaches a real node. The
    loss weighs real nodes and edges by 1 / N and 1 / E and padding by 0
    (`miro.core.losses.LossInputs`), so it is the batch's own mean; the padding's gradients
    are zero.
    """
    n, e = x.shape[0], edge_index.shape[1]
    extra_n, extra_e = bucket(n + 1) - n, bucket(e) - e

    def nodes(t: Tensor | None, dim: int = 0, value: float = 0.0) -> Tensor | None:
        if t is None:
            return None
        pad = [0, 0] * (t.ndim - 1 - dim) + [0, extra_n]
        return torch.nn.functional.pad(t, pad, value=value)

    def weights(count: int, extra: int) -> Tensor:
        return torch.cat([torch.full((count,), 1.0 / max(count, 1)), torch.zeros(extra)])

    padded = LossInputs(
        target=nodes(inputs.target, dim=1),
        pos=nodes(inputs.pos),
        radius=nodes(inputs.radius, value=1.0),
        edge_index=torch.nn.functional.pad(inputs.edge_index, [0, extra_e], value=n),
        classes=nodes(inputs.classes),
        node_weight=weights(n, extra_n),
        edge_weight=weights(e, extra_e),
    )
    edge_attr = torch.nn.functional.pad(edge_attr, [0, 0, 0, extra_e])
    return nodes(x), padded.edge_index, edge_attr, padded


def peak_memory_mb(device: torch.device) -> float:
    """This process's peak memory so far, MiB: on CUDA what torch's allocator has held
    (``max_memory_reserved``, reset when `train` starts; the CUDA context, some 500 MiB, comes
    on top), elsewhere the peak resident set size."""
    if device.type == "cuda":
        return torch.cuda.max_memory_reserved(device) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def jobs_per_gpu(gpu_mb: float, job_mb: float, reserve: float = 0.1) -> int:
    """How many training jobs of peak ``job_mb`` (MiB, the whole process: tensors, allocator
    cache and CUDA context) fit at once in a GPU of ``gpu_mb``, keeping ``reserve`` of it free:
    the ``--resources gpu_slots=N`` of a Snakemake run (docs/usage.md)."""
    if job_mb <= 0 or not 0 <= reserve < 1:
        raise ValueError(f"need job_mb > 0 and 0 <= reserve < 1, got {job_mb=}, {reserve=}")
    return max(math.floor(gpu_mb * (1 - reserve) / job_mb), 0)


def learning_rate_schedule(
    optimizer: torch.optim.Optimizer, cfg: TrainConfig, steps_per_epoch: int
) -> torch.optim.lr_scheduler.LRScheduler:
    """The per-step learning rate of ``cfg.schedule`` over ``cfg.epochs`` epochs (module
    docstring); ``constant`` keeps ``cfg.lr``."""
    if cfg.schedule == "constant":
        return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda _: 1.0)
    if cfg.schedule == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(
            optimizer,
            max_lr=cfg.lr,
            total_steps=cfg.epochs * steps_per_epoch,
            pct_start=cfg.warmup,
            anneal_strategy="cos",
            div_factor=25.0,
            final_div_factor=400.0,
        )
    raise ValueError(f"unknown learning-rate schedule {cfg.schedule!r}; known: {SCHEDULES}")


def _check_graphs(graphs: list[Data], cfg: TrainConfig) -> None:
    if not graphs:
        raise ValueError("no training graphs")
    for i, g in enumerate(graphs):
        if getattr(g, "y", None) is None:
            raise ValueError(f"training graph {i} has no targets y (build it with labels)")
        if not np.isclose(g.radius, cfg.radius, rtol=0, atol=1e-12):
            raise ValueError(f"training graph {i} has radius {g.radius}, config {cfg.radius}")
        if (g.num_node_features, g.num_edge_features) != (
            graphs[0].num_node_features,
            graphs[0].num_edge_features,
        ):
            raise ValueError(f"training graph {i} has other feature sizes than graph 0")


def run_definition(cfg: TrainConfig, graphs: list[Data]) -> dict[str, Any]:
    """What defines a training run, so that its ``last.pt`` may be resumed: the settings except
    `RESUMABLE_CHANGES`, and a fingerprint of the training graphs (all their tensors, in order).
    """
    # a schedule spans all epochs: only a constant learning rate may be resumed for more
    resumable = RESUMABLE_CHANGES - ({"epochs"} if cfg.schedule != "constant" else set())
    settings = {k: v for k, v in asdict(cfg).items() if k not in resumable}
    return {"settings": settings, "graphs": graphs_fingerprint(graphs)}


def graphs_fingerprint(graphs: list[Data]) -> str:
    """sha256 over the graphs' attributes (name, then tensor or value), graph by graph."""
    return fingerprint(part for g in graphs for key in sorted(g.keys()) for part in (key, g[key]))


def _resumable_state(
    path: Path, definition: dict[str, Any], epochs: int, say: Callable[[str], None]
) -> dict | None:
    """The payload of the epoch checkpoint ``path`` if it continues the run ``definition`` for
    at most ``epochs`` epochs; otherwise None, and ``say`` is told why the run starts afresh."""
    if not path.exists():
        return None
    try:
        payload = load_checkpoint(path).payload
    except ValueError as err:
        say(f"{path} cannot be resumed ({err}): training from scratch")
        return None
    saved = payload.get("definition")
    if not isinstance(saved, dict):
        reason = "it records no run definition (written by an older version)"
    elif saved.get("graphs") != definition["graphs"]:
        reason = "the training graphs changed"
    elif saved.get("settings") != definition["settings"]:
        old, new = saved.get("settings") or {}, definition["settings"]
        changed = sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k))
        reason = "training settings changed: " + ", ".join(
            f"{k} {old.get(k)!r} -> {new.get(k)!r}" for k in changed
        )
    elif len(payload.get("history") or []) > epochs:
        reason = f"it has {len(payload['history'])} epochs, more than the {epochs} asked for"
    else:
        return payload
    say(f"{path} is not resumed, {reason}: training from scratch")
    return None


def _resume(
    path: Path,
    state: dict,
    model: MIRO | MPNN,
    optimizer: torch.optim.Optimizer,
    generator: torch.Generator,
    scheduler: torch.optim.lr_scheduler.LRScheduler,
) -> list[dict]:
    """Restore model, optimizer, learning-rate schedule and RNG states of the epoch checkpoint
    ``state`` (read from ``path``) of the same run; returns its loss history."""
    try:
        model.load_state_dict(state["state_dict"])
        optimizer.load_state_dict(state["optimizer"])
        if "scheduler" in state:  # absent in files written before schedules existed
            scheduler.load_state_dict(state["scheduler"])
        torch.set_rng_state(state["rng"]["torch"])
        generator.set_state(state["rng"]["loader"])
        return list(state["history"])
    except (KeyError, RuntimeError, ValueError) as err:
        raise ValueError(f"{path}: cannot resume from this checkpoint ({err})") from err
