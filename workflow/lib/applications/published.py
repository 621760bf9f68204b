"""The authors' published MIRO weights: obtain, verify and convert them
(``docs/reference.md#published-weights``).

The repository ``DeepTrackAI/MIRO`` holds one trained model per benchmark folder
(``benchmark/models/model_scenario_<N>[_blinking].pt``), listed with size and sha256 in
``resources/published_checkpoints.tsv``. Each is a plain ``torch.save`` of an ordered dict of
14 float32 tensors in ``nn.Linear`` layout, in exactly the column order of `miro.core.model.MIRO`,
so conversion is a renaming (`KEY_MAP`). The number of recurrent steps is not stored: it is the
dataset's setting. Obtaining and verifying the files (a local copy with the upstream layout, or
a download) is `miro.data.published_files`, re-exported here. `convert_published` writes the
project's checkpoint format (`miro.core.training.save_checkpoint`), so the rest of the workflow
cannot tell an imported model from a trained one except by its ``train["source"] ==
"published"`` record.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from miro.core.graph import NUM_EIGENVECTORS
from miro.core.model import MIRO
from miro.core.training import save_checkpoint
from miro.data.benchmark import sha256sum
from miro.data.published_files import (
    PUBLISHED_COMMIT,
    PUBLISHED_RAW,
    PUBLISHED_REPO,
    PublishedError,
    checkpoint_path,
    fetch_published,
    load_manifest,
)

__all__ = [
    "KEY_MAP",
    "PUBLISHED_COMMIT",
    "PUBLISHED_RAW",
    "PUBLISHED_REPO",
    "PublishedError",
    "checkpoint_path",
    "convert_published",
    "fetch_published",
    "load_manifest",
    "load_published",
    "state_dict_from_published",
]

EDGE_FEATURES = 3  # [dx, dy, distance] / r (docs/reference.md#graph)

#: Published layer prefix -> `MIRO` module, in the published key order.
_LAYERS = {
    "model.encoder.0.blocks.0.layer": "node_encoder",
    "model.encoder.1.blocks.0.layer": "edge_encoder",
    "model.backbone.layer.0.0.blocks.0.layer": "node_combine",
    "model.backbone.layer.0.1.blocks.0.layer": "edge_combine",
    "model.backbone.layer.1.blocks.0.transform.layer": "message",
    "model.backbone.layer.1.blocks.0.update.blocks.0.layer": "update",
    "model.backbone.head.blocks.0.layer": "head",
}
#: Published key -> `MIRO` parameter name (the 14 keys of a benchmark checkpoint, in order).
KEY_MAP = {
    f"{prefix}.{kind}": f"{module}.{kind}"
    for prefix, module in _LAYERS.items()
    for kind in ("weight", "bias")
}


def _empty_model(width: int, steps: int = 1) -> MIRO:
    """`MIRO` with the published feature sizes and unallocated weights (no RNG draws)."""
    with torch.device("meta"):
        return MIRO(
            width=width, steps=steps, node_features=NUM_EIGENVECTORS, edge_features=EDGE_FEATURES
        )


def _expected_shapes(width: int) -> dict[str, tuple[int, ...]]:
    """Shape of every published tensor at ``width`` (`MIRO`'s parameters, renamed)."""
    ours = {name: tuple(p.shape) for name, p in _empty_model(width).named_parameters()}
    return {key: ours[name] for key, name in KEY_MAP.items()}


def state_dict_from_published(published: Mapping[str, Tensor], source: str) -> dict[str, Tensor]:
    """`MIRO` state dict of a published checkpoint; every error names ``source``.

    Checks: exactly the 14 keys of `KEY_MAP`, float tensors of consistent shapes (the width is
    read from the node encoder), finite values.
    """
    if not isinstance(published, Mapping):
        raise ValueError(f"{source}: expected a dict of tensors, got {type(published).__name__}")
    missing = [k for k in KEY_MAP if k not in published]
    unexpected = [k for k in published if k not in KEY_MAP]
    if missing or unexpected:
        raise ValueError(
            f"{source}: published key layout not supported yet: keys missing {missing}, "
            f"unexpected keys {unexpected} (only the 14-tensor benchmark models are supported)"
        )
    for key, value in published.items():
        if not isinstance(value, Tensor) or not value.is_floating_point():
            kind = value.dtype if isinstance(value, Tensor) else type(value).__name__
            raise ValueError(f"{source}: {key} must be a float tensor, got {kind}")
    node_weight = published["model.encoder.0.blocks.0.layer.weight"]
    if node_weight.ndim != 2 or node_weight.shape[0] < 1:
        raise ValueError(f"{source}: node encoder weight has shape {tuple(node_weight.shape)}")
    for key, shape in _expected_shapes(node_weight.shape[0]).items():
        if tuple(published[key].shape) != shape:
            raise ValueError(
                f"{source}: {key} has shape {tuple(published[key].shape)}, expected {shape} "
                f"(width {node_weight.shape[0]} from the node encoder)"
            )
        if not torch.isfinite(published[key]).all():
            raise ValueError(f"{source}: {key} has non-finite values")
    return {KEY_MAP[key]: published[key].detach().to(torch.float32) for key in KEY_MAP}


def load_published(path: str | os.PathLike, *, steps: int) -> MIRO:
    """`MIRO` with the weights of a published checkpoint file and ``steps`` recurrent steps."""
    try:
        published = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise
    except Exception as err:  # torch raises many types for corrupt or unsafe files
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ValueError(f"{path}: not a readable published checkpoint ({reason})") from err
    state = state_dict_from_published(published, str(path))
    model = _empty_model(state["node_encoder.weight"].shape[0], steps)
    model.load_state_dict(state, assign=True)
    return model


def convert_published(
    src: str | os.PathLike,
    dst: str | os.PathLike,
    *,
    steps: int,
    radius: float,
    source_info: Mapping[str, Any],
) -> Path:
    """Write the published checkpoint ``src`` as a project checkpoint ``dst`` (atomically).

    ``radius`` is the connectivity radius the model expects (the dataset's setting).
    ``train`` records ``source: published``, ``source_info`` (repo, commit, path...) and the
    sha256 of ``src`` as converted.
    """
    model = load_published(src, steps=steps)
    train = {"source": "published", **source_info, "sha256": sha256sum(src)}
    save_checkpoint(Path(dst), model, radius=radius, train=train)
    return Path(dst)
