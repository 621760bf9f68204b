"""MIRO loss (paper Methods, "MIRO loss function", Eqs. 4-7; ``docs/reference.md#training``).

All terms are averaged over the K recurrent steps. ``L1`` is the mean absolute error over every
element, as in ``torch.nn.L1Loss``: for displacements this averages over nodes *and* both
coordinates. Over a PyG mini-batch the means run over all nodes / edges of the batch.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor
from torch.nn import functional as F
from torch_geometric.data import Data

from miro.core.model import MIROOutput

LOSS_PARTS = ("loss", "L_r", "L_d", "L_ce")  # the parts `miro_loss` reports, in this order


def node_radius(data: Data) -> Tensor:
    """Connectivity radius per node, (N, 1); a batch holds one radius per graph."""
    radius = torch.as_tensor(data.radius, dtype=data.pos.dtype, device=data.pos.device)
    if radius.ndim == 0:
        return radius.expand(data.num_nodes, 1)
    return radius[data.batch].unsqueeze(1)


def step_targets(data: Data, steps: int, k_star: int | None = None) -> Tensor:
    """Target displacements per step, (K, N, 2): ``y_early`` for steps [0, k*), ``y`` after."""
    if k_star is None:
        return data.y.expand(steps, -1, -1)
    if not 0 <= k_star <= steps:
        raise ValueError(f"k_star must lie in [0, {steps}], got {k_star}")
    if getattr(data, "y_early", None) is None:
        raise ValueError("multiscale loss (k_star set) needs graphs built with early_labels")
    late = torch.arange(steps, device=data.y.device) >= k_star
    return torch.stack([data.y_early, data.y])[late.long()]


def _edge_lengths(pos: Tensor, sender: Tensor, receiver: Tensor) -> Tensor:
    """Edge lengths per step, (K, E), of positions (K, N, 2).

    Gathers with ``index_select``: its gradient sums over edges with ``index_add_``, which is
    deterministic on CPU, whereas the gradient of advanced indexing (``pos[:, sender]``,
    ``index_put_`` with accumulation) sums in a thread-dependent order, so that two CPU runs
    with several threads trained to different weights (docs/reproducibility.md).
    """
    return torch.linalg.vector_norm(
        pos.index_select(1, sender) - pos.index_select(1, receiver), dim=-1
    )


class LossInputs(NamedTuple):
    """What the loss reads of a (batched) graph, as plain tensors (compiled code takes these)."""

    target: Tensor  # (K, N, 2) target displacement per step (`step_targets`)
    pos: Tensor  # (N, 2) normalised positions
    radius: Tensor  # (N, 1) connectivity radius per node (`node_radius`)
    edge_index: Tensor  # (2, E) sender, receiver
    classes: Tensor | None  # (N,) class ids, when the graphs have them
    # padding (`miro.core.training`, fast path): weights summing to 1 over the real nodes /
    # edges, 0 on padding; None: plain means over all of them
    node_weight: Tensor | None = None
    edge_weight: Tensor | None = None


def loss_inputs(data: Data, steps: int, k_star: int | None = None) -> LossInputs:
    """The `LossInputs` of ``data`` for a model of ``steps`` recurrent steps."""
    return LossInputs(
        target=step_targets(data, steps, k_star),
        pos=data.pos,
        radius=node_radius(data),
        edge_index=data.edge_index,
        classes=getattr(data, "classes", None),
    )


def _mean(values: Tensor, weight: Tensor | None) -> Tensor:
    """Mean of ``values`` (K, M, ...): over every element, or with ``weight`` (M,) (summing to
    1 over the entries that count) the same mean over the weighted entries of dim 1 only."""
    if weight is None:
        return values.mean()
    inner = values[0, 0].numel()
    return (values * weight.view(1, -1, *[1] * (values.ndim - 2))).sum() / (values.shape[0] * inner)


def miro_loss_terms(
    out: MIROOutput, inputs: LossInputs, alpha: float = 10.0, beta: float = 0.0
) -> tuple[Tensor, Tensor]:
    """The loss of `miro_loss` as tensors: the total, and its parts ``[loss, L_r, L_d, L_ce]``
    (`LOSS_PARTS`, detached) in one tensor, so that logging costs one device sync per step."""
    pred = out.displacements  # (K, N, 2)
    target = inputs.target
    if inputs.node_weight is None:
        loss_r = F.l1_loss(pred, target)
    else:
        loss_r = _mean((pred - target).abs(), inputs.node_weight)

    sender, receiver = inputs.edge_index
    pred_pos = inputs.pos - inputs.radius * pred
    target_pos = inputs.pos - inputs.radius * target
    pred_len = _edge_lengths(pred_pos, sender, receiver)
    target_len = _edge_lengths(target_pos, sender, receiver)
    if not sender.numel():
        loss_d = pred.new_zeros(())
    elif inputs.edge_weight is None:
        loss_d = alpha * F.l1_loss(pred_len, target_len)
    else:
        loss_d = alpha * _mean((pred_len - target_len).abs(), inputs.edge_weight)

    loss, loss_ce = loss_r + loss_d, pred.new_zeros(())
    if beta > 0:
        if out.logits is None or inputs.classes is None:
            raise ValueError("beta > 0 needs a model with a class head and graphs with classes")
        steps, nodes, num_classes = out.logits.shape
        flat = (out.logits.reshape(-1, num_classes), inputs.classes.repeat(steps))
        if inputs.node_weight is None:
            loss_ce = beta * F.cross_entropy(*flat)
        else:
            per_node = F.cross_entropy(*flat, reduction="none").view(steps, nodes)
            loss_ce = beta * _mean(per_node, inputs.node_weight)
        loss = loss + loss_ce
    return loss, torch.stack([loss, loss_r, loss_d, loss_ce]).detach()


def miro_loss(
    out: MIROOutput,
    data: Data,
    alpha: float = 10.0,
    beta: float = 0.0,
    k_star: int | None = None,
) -> tuple[Tensor, dict[str, float]]:
    """``L = L_r + L_d (+ L_class)``, each averaged over the recurrent steps.

    - ``L_r`` (Eq. 5): L1 between predicted and target displacements.
    - ``L_d`` (Eq. 6): ``alpha`` x L1 between edge lengths after the predicted and after the
      target displacement, ``p_hat = pos - r * y_hat_k`` and ``p = pos - r * y``, over all
      (directed) edges.
    - ``L_class`` (Eq. 7): ``beta`` x cross-entropy of the per-step class logits, when
      ``beta > 0``.
    - Multiscale: with ``k_star``, steps [0, k*) are compared with ``data.y_early``.
    Returns the total and its parts (weighted as they enter the total) as floats for logging.
    """
    inputs = loss_inputs(data, out.displacements.shape[0], k_star)
    loss, parts = miro_loss_terms(out, inputs, alpha=alpha, beta=beta)
    return loss, dict(zip(LOSS_PARTS, parts.tolist(), strict=True))
