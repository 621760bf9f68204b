"""MIRO loss (paper Methods, "MIRO loss function", Eqs. 4-7; ``docs/reference.md#training``).

All terms are averaged over the K recurrent steps. ``L1`` is the mean absolute error over every
element, as in ``torch.nn.L1Loss``: for displacements this averages over nodes *and* both
coordinates. Over a PyG mini-batch the means run over all nodes / edges of the batch.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch.nn import functional as F
from torch_geometric.data import Data

from miro.core.model import MIROOutput


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
    pred = out.displacements  # (K, N, 2)
    target = step_targets(data, pred.shape[0], k_star)
    loss_r = F.l1_loss(pred, target)

    sender, receiver = data.edge_index
    radius = node_radius(data)
    pred_pos = data.pos - radius * pred
    target_pos = data.pos - radius * target
    pred_len = _edge_lengths(pred_pos, sender, receiver)
    target_len = _edge_lengths(target_pos, sender, receiver)
    loss_d = alpha * F.l1_loss(pred_len, target_len) if sender.numel() else pred.new_zeros(())

    loss = loss_r + loss_d
    parts = {"L_r": loss_r.item(), "L_d": loss_d.item(), "L_ce": 0.0}
    if beta > 0:
        if out.logits is None or getattr(data, "classes", None) is None:
            raise ValueError("beta > 0 needs a model with a class head and graphs with classes")
        steps, _, num_classes = out.logits.shape
        loss_ce = beta * F.cross_entropy(
            out.logits.reshape(-1, num_classes), data.classes.repeat(steps)
        )
        loss = loss + loss_ce
        parts["L_ce"] = loss_ce.item()
    parts["loss"] = loss.item()
    return loss, parts
