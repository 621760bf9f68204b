"""Checkpoints: one file holds a network and everything it was trained with.

A checkpoint stores the weights, the architecture and its constructor arguments, the graph
settings the network expects (connectivity radius in min-max normalised units, number of
Laplacian eigenvectors, the extent in nm of the training FOVs that the radius is relative to),
the training settings and loss history, and the library versions. `load_checkpoint` rebuilds the
network and returns it as a `Checkpoint`, and `training_record` reads only what a network was
trained with, so that no caller unpacks checkpoint dictionaries.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch_geometric
from torch import nn

import miro
from miro.core.graph import NUM_EIGENVECTORS
from miro.core.model import MIRO
from miro.core.mpnn import MPNN
from miro.files import write_torch_atomic

#: Networks a checkpoint can hold: MIRO and the recurrent-steps ablation's conventional MPNN.
ARCHITECTURES: dict[str, type[MIRO | MPNN]] = {"miro": MIRO, "mpnn": MPNN}
TRUNCATED_HINT = "the file is damaged or was cut short: delete it and re-run the rule that wrote it"


@dataclass(frozen=True)
class Checkpoint:
    """A network rebuilt from its file, with what it was trained with."""

    path: Path
    model: MIRO | MPNN
    radius: float  # connectivity radius of its graphs, min-max normalised units
    fov_nm: float | None  # extent (nm) of the training FOVs: new data is squeezed at this scale
    train: dict[str, Any]  # training settings (``source: published`` for imported weights)
    history: list[dict] = field(default_factory=list)  # one row per epoch
    n_graphs: int | None = None  # training graphs
    payload: dict[str, Any] = field(default_factory=dict, repr=False)  # the whole file

    @property
    def architecture(self) -> str:
        return architecture_of(self.model)

    @property
    def k_star(self) -> int | None:
        """Multiscale switch step (paper, "MIRO loss function"); None for single-scale models."""
        return self.train.get("k_star")

    @property
    def num_classes(self) -> int:
        return self.model.num_classes

    @property
    def class_names(self) -> list[str] | None:
        """Names of the class logits, class 0 first, when recorded (imported published models,
        `miro.applications.published`); None otherwise."""
        return self.train.get("class_names") or None

    @property
    def train_seconds(self) -> float:
        return float(sum(epoch["seconds"] for epoch in self.history))


def versions() -> dict[str, str]:
    """Library versions recorded in every checkpoint."""
    return {
        "torch": str(torch.__version__),
        "torch_geometric": str(torch_geometric.__version__),
        "numpy": str(np.__version__),
        "miro": miro.__version__,
    }


def build_model(architecture: str = "miro", **settings: int) -> MIRO | MPNN:
    """The network ``architecture`` (a key of `ARCHITECTURES`) built with ``settings``."""
    if architecture not in ARCHITECTURES:
        known = list(ARCHITECTURES)
        raise ValueError(f"unknown architecture {architecture!r}; choose from {known}")
    return ARCHITECTURES[architecture](**settings)


def architecture_of(model: nn.Module) -> str:
    """The `ARCHITECTURES` key of ``model``'s class."""
    for name, cls in ARCHITECTURES.items():
        if type(model) is cls:
            return name
    raise ValueError(f"{type(model).__name__} is not one of {list(ARCHITECTURES)}")


def parameter_count(model: nn.Module) -> int:
    """Trainable parameters of ``model``."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def save_checkpoint(
    path: str | os.PathLike,
    model: MIRO | MPNN,
    *,
    radius: float,
    fov_nm: float | None = None,
    train: dict | None = None,
    **extra: Any,
) -> None:
    """Write ``model`` with everything needed to rebuild it and its graphs, atomically; the same
    contents give the same bytes.

    ``radius`` is stored once, with the graph settings; ``fov_nm`` is the extent of the FOVs the
    model was trained on (the radius is relative to it, so new data is squeezed at that scale,
    `miro.applications.apply`). ``extra`` keys (optimizer state, history, ...) are stored as given.
    """
    graph = {"radius": float(radius), "eigenvectors": NUM_EIGENVECTORS}
    if fov_nm is not None:
        graph["fov_nm"] = float(fov_nm)
    payload = {
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "architecture": architecture_of(model),
        "model": model.settings(),
        "graph": graph,
        "train": {k: v for k, v in (train or {}).items() if k not in ("radius", "fov_nm")},
        "versions": versions(),
        **extra,
    }
    write_torch_atomic(payload, path)


def read_payload(
    path: str | os.PathLike,
    required: set[str],
    kind: str,
    map_location: str | torch.device = "cpu",
) -> dict:
    """The dictionary of a checkpoint file (``torch.load``, weights only); ValueError naming the
    file, and what to do, when it cannot be read or lacks the ``required`` keys of a ``kind``
    checkpoint."""
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except FileNotFoundError:
        raise
    except Exception as err:  # torch raises many types for corrupt files
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ValueError(f"{path}: not a readable checkpoint ({reason}); {TRUNCATED_HINT}") from err
    missing = required - set(payload if isinstance(payload, dict) else ())
    if missing:
        raise ValueError(f"{path}: not a {kind} checkpoint (missing {sorted(missing)})")
    return payload


def training_record(path: str | os.PathLike) -> tuple[dict[str, Any], int | None]:
    """The training settings and number of training graphs (None when not recorded) that a
    trained checkpoint holds, whatever its network (any file with a ``train`` entry, as
    `miro.core.training.train` writes it), without rebuilding the network; ValueError naming
    the file when it records no training settings."""
    payload = read_payload(path, {"train"}, "trained")
    return dict(payload["train"] or {}), payload.get("n_graphs")


def load_checkpoint(
    path: str | os.PathLike, map_location: str | torch.device = "cpu"
) -> Checkpoint:
    """Rebuild the network of a checkpoint file.

    Raises ValueError naming the file when it is not a MIRO checkpoint or its weights do not
    fit the stored settings.
    """
    path = Path(path)
    payload = read_payload(path, {"state_dict", "model", "graph"}, "MIRO", map_location)
    try:
        model = build_model(payload.get("architecture", "miro"), **payload["model"])
        model.load_state_dict(payload["state_dict"])
    except (TypeError, ValueError, RuntimeError) as err:
        raise ValueError(f"{path}: weights do not match the stored model settings ({err})") from err
    graph = payload["graph"]
    return Checkpoint(
        path=path,
        model=model.to(map_location),
        radius=float(graph["radius"]),
        fov_nm=float(graph["fov_nm"]) if graph.get("fov_nm") is not None else None,
        train=dict(payload.get("train") or {}),
        history=list(payload.get("history") or []),
        n_graphs=payload.get("n_graphs"),
        payload=payload,
    )
