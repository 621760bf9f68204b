"""A conventional message-passing GNN, the baseline of the recurrent-steps ablation (paper
Methods, "Number of recurrent steps: influence on performance and oversmoothing", Supp. Fig. 2).

Same inputs and outputs as `miro.core.model.MIRO` (5 node / 3 edge features, width ``w``, one
displacement per layer, so `miro.core.losses.miro_loss` applies with K = L), but ``L`` stacked
layers, each with its own weights, instead of one recurrent block::

    h = node_encoder(v)             e = edge_encoder(e_in)          (no activation, as in MIRO)
    m_ij = ReLU(message_l([h_i, h_j, e_ij]))     for each edge j -> i
    h_i <- ReLU(update_l([h_i, Σ_j m_ij])) + h_i                     (skip connection)
    displacement_l = head_l(h)      logits_l = classifier_l(h)       (optional)

Unlike MIRO, the node's own features enter its update (the "typical message passing scheme"
the paper contrasts MIRO with), and the parameter count grows with the depth.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from miro.core.model import GraphNetwork, MIROOutput


class MPNN(GraphNetwork):
    """``steps`` message-passing layers with skip connections; ``steps`` is the depth L (named
    as MIRO's recurrent steps so both fill the same `miro.core.training.TrainConfig` and
    checkpoints)."""

    def __init__(
        self,
        width: int = 256,
        steps: int = 12,
        node_features: int = 5,
        edge_features: int = 3,
        num_classes: int = 0,
    ) -> None:
        super().__init__(width, steps, node_features, edge_features, num_classes)
        layers = range(steps)
        self.message = nn.ModuleList(nn.Linear(3 * width, width) for _ in layers)
        self.update = nn.ModuleList(nn.Linear(2 * width, width) for _ in layers)
        self.head = nn.ModuleList(nn.Linear(width, 2) for _ in layers)
        self.classifier = (
            nn.ModuleList(nn.Linear(width, num_classes) for _ in layers) if num_classes else None
        )

    def forward(self, x: Tensor, edge_index: Tensor, edge_attr: Tensor) -> MIROOutput:
        """Run the ``steps`` layers; ``hidden`` is the last layer's node features."""
        sender, receiver = edge_index[0], edge_index[1]
        h, e = self.node_encoder(x), self.edge_encoder(edge_attr)
        displacements, logits = [], []
        for layer in range(self.steps):
            m = torch.relu(
                self.message[layer](
                    torch.cat([h.index_select(0, receiver), h.index_select(0, sender), e], dim=1)
                )
            )
            summed = torch.zeros_like(h).index_add(0, receiver, m)
            h = torch.relu(self.update[layer](torch.cat([h, summed], dim=1))) + h
            displacements.append(self.head[layer](h))
            if self.classifier is not None:
                logits.append(self.classifier[layer](h))
        return MIROOutput(
            displacements=torch.stack(displacements),
            logits=torch.stack(logits) if logits else None,
            hidden=h,
        )
