"""The authors' published MIRO weights: obtain, verify and convert them
(``docs/reference.md#published-weights``, ``docs/published.md``).

The repository ``DeepTrackAI/MIRO`` holds one trained model per benchmark folder
(``benchmark/models/model_scenario_<N>[_blinking].pt``) and the multishape, multiscale and
single-shot models, listed with size and sha256 in ``resources/published_checkpoints.tsv``. Each
is a plain ``torch.save`` of an ordered dict of 14 float32 tensors in ``nn.Linear`` layout, in
exactly the column order of `miro.core.model.MIRO`, so conversion is a renaming (`KEY_MAP`).
The one difference is the head of a model with classes (the multishape model, paper Fig. 3):
one ``Linear(width, 2 + C)`` whose outputs 0-1 are the displacement and 2.. the C class logits,
split here into MIRO's ``head`` (2 outputs) and ``classifier`` (C outputs, class 0 = the
non-clustered localizations). The number of recurrent steps is not stored: it is the dataset's
setting (by default the model's, `miro.data.published_files.PublishedModel`). Obtaining and
verifying the files (a local copy with the upstream layout, or a download) is
`miro.data.published_files`, re-exported here. `convert_published` writes the project's
checkpoint format (`miro.core.checkpoint.save_checkpoint`), so the rest of the workflow cannot
tell an imported model from a trained one except by its ``train["source"] == "published"``
record.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from pooch import file_hash
from torch import Tensor

from miro.core.checkpoint import save_checkpoint
from miro.core.graph import NUM_EIGENVECTORS
from miro.core.model import MIRO
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
#: Published key -> `MIRO` parameter name (the 14 keys of a published checkpoint, in order; the
#: head's class-logit rows, when there are any, go to ``classifier``).
KEY_MAP = {
    f"{prefix}.{kind}": f"{module}.{kind}"
    for prefix, module in _LAYERS.items()
    for kind in ("weight", "bias")
}


HEAD = "model.backbone.head.blocks.0.layer"  # displacement (2 outputs), then class logits
DISPLACEMENT = 2  # outputs of the head that are the displacement (dx, dy)


def _empty_model(width: int, steps: int = 1, num_classes: int = 0) -> MIRO:
    """`MIRO` with the published feature sizes and unallocated weights (no RNG draws)."""
    with torch.device("meta"):
        return MIRO(
            width=width,
            steps=steps,
            node_features=NUM_EIGENVECTORS,
            edge_features=EDGE_FEATURES,
            num_classes=num_classes,
        )


def _expected_shapes(width: int, num_classes: int) -> dict[str, tuple[int, ...]]:
    """Shape of every published tensor at ``width`` (`MIRO`'s parameters, renamed; the head
    with its ``num_classes`` class-logit rows)."""
    ours = {name: tuple(p.shape) for name, p in _empty_model(width).named_parameters()}
    shapes = {key: ours[name] for key, name in KEY_MAP.items()}
    shapes[f"{HEAD}.weight"] = (DISPLACEMENT + num_classes, width)
    shapes[f"{HEAD}.bias"] = (DISPLACEMENT + num_classes,)
    return shapes


def state_dict_from_published(
    published: Mapping[str, Tensor], source: str, num_classes: int = 0
) -> dict[str, Tensor]:
    """`MIRO` state dict of a published checkpoint whose head has 2 displacement outputs and
    ``num_classes`` class logits (0: no class head); every error names ``source``.

    Checks: exactly the 14 keys of `KEY_MAP`, float tensors of consistent shapes (the width is
    read from the node encoder, the head must have ``2 + num_classes`` outputs), finite values.
    """
    if not isinstance(published, Mapping):
        raise ValueError(f"{source}: expected a dict of tensors, got {type(published).__name__}")
    missing = [k for k in KEY_MAP if k not in published]
    unexpected = [k for k in published if k not in KEY_MAP]
    if missing or unexpected:
        raise ValueError(
            f"{source}: not the key layout of the published models: keys missing {missing}, "
            f"unexpected keys {unexpected} (every published model has the same 14 tensors)"
        )
    for key, value in published.items():
        if not isinstance(value, Tensor) or not value.is_floating_point():
            kind = value.dtype if isinstance(value, Tensor) else type(value).__name__
            raise ValueError(f"{source}: {key} must be a float tensor, got {kind}")
    node_weight = published["model.encoder.0.blocks.0.layer.weight"]
    if node_weight.ndim != 2 or node_weight.shape[0] < 1:
        raise ValueError(f"{source}: node encoder weight has shape {tuple(node_weight.shape)}")
    width = node_weight.shape[0]
    head = published[f"{HEAD}.weight"]
    if head.ndim == 2 and DISPLACEMENT <= head.shape[0] != DISPLACEMENT + num_classes:
        found = head.shape[0] - DISPLACEMENT
        raise ValueError(
            f"{source}: the head has {head.shape[0]} outputs (2 displacement + {found} class "
            f"logits); expected {DISPLACEMENT + num_classes} (2 displacement + {num_classes} "
            "class logits) for this model"
        )
    for key, shape in _expected_shapes(width, num_classes).items():
        if tuple(published[key].shape) != shape:
            raise ValueError(
                f"{source}: {key} has shape {tuple(published[key].shape)}, expected {shape} "
                f"(width {width} from the node encoder)"
            )
        if not torch.isfinite(published[key]).all():
            raise ValueError(f"{source}: {key} has non-finite values")
    state = {KEY_MAP[key]: published[key].detach().to(torch.float32) for key in KEY_MAP}
    if num_classes:
        for kind in ("weight", "bias"):
            rows = state.pop(f"head.{kind}")
            state[f"head.{kind}"], state[f"classifier.{kind}"] = rows.split(
                [DISPLACEMENT, num_classes]
            )
    return state


def load_published(path: str | os.PathLike, *, steps: int, num_classes: int = 0) -> MIRO:
    """`MIRO` with the weights of a published checkpoint file, ``steps`` recurrent steps and a
    class head of ``num_classes`` outputs (0: none; the file's head must match)."""
    try:
        published = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise
    except Exception as err:  # torch raises many types for corrupt or unsafe files
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ValueError(f"{path}: not a readable published checkpoint ({reason})") from err
    state = state_dict_from_published(published, str(path), num_classes)
    model = _empty_model(state["node_encoder.weight"].shape[0], steps, num_classes)
    model.load_state_dict(state, assign=True)
    return model


def convert_published(
    src: str | os.PathLike,
    dst: str | os.PathLike,
    *,
    steps: int,
    radius: float,
    source_info: Mapping[str, Any],
    fov_nm: float | None = None,
    k_star: int | None = None,
    class_names: Sequence[str] = (),
) -> Path:
    """Write the published checkpoint ``src`` as a project checkpoint ``dst`` (atomically).

    ``radius`` is the connectivity radius the model expects and ``fov_nm`` the extent (nm) of
    the FOVs it was trained on (the scale new data is squeezed at); ``class_names`` name its
    class logits, class 0 first (() for a model without class head: the head of ``src`` must
    have ``2 + len(class_names)`` outputs); ``k_star`` is the multiscale switch step of a
    multiscale model (paper, "MIRO loss function"). ``train`` records ``source: published``,
    ``source_info`` (repo, commit, path...), the sha256 of ``src`` as converted, ``k_star`` and
    ``class_names``.
    """
    model = load_published(src, steps=steps, num_classes=len(class_names))
    train = {
        "source": "published",
        **source_info,
        "sha256": file_hash(str(src), alg="sha256"),
        "k_star": k_star,
        "class_names": list(class_names),
    }
    save_checkpoint(Path(dst), model, radius=radius, fov_nm=fov_nm, train=train)
    return Path(dst)
