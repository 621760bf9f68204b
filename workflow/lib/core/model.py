"""The MIRO recurrent graph neural network (paper Methods, "MIRO architecture";
``docs/reference.md#model``).

Encoders (no activation): ``v' = node_encoder(v)``, ``e' = edge_encoder(e)``. Hidden states
``u`` (nodes) and ``f`` (edges) start at zero; every recurrent step applies the same weights::

    h = node_combine([u, v'])          e = edge_combine([f, e'])
    f <- ReLU(message([h_sender, h_receiver, e]))
    u <- ReLU(update(sum of f over the receiver's incoming edges))
    displacement_k = head(u)           logits_k = classifier(u)   (optional)

`MIRO.forward` computes exactly this with the linear algebra rearranged (see its docstring);
`MIRO.infer` is the same computation for inference only, holding two edge-sized tensors instead
of four and stopping at the step asked for; `literal_forward` is the plain concatenate-then-Linear
transcription, kept as the reference that tests and benchmarks verify the fast paths against.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn
from torch.nn import functional as F


@dataclass
class MIROOutput:
    displacements: Tensor  # (K, N, 2) predicted displacement per recurrent step
    logits: Tensor | None  # (K, N, C) class logits per step, when the model has classes
    hidden: Tensor  # (N, width) final hidden node state u


class GraphNetwork(nn.Module):
    """What MIRO and the ablation's message-passing GNN (`miro.core.mpnn.MPNN`) share: the settings
    stored in checkpoints, their validation, and the node and edge encoders."""

    def __init__(
        self, width: int, steps: int, node_features: int, edge_features: int, num_classes: int
    ) -> None:
        super().__init__()
        if width < 1 or steps < 1 or num_classes < 0:
            name = type(self).__name__
            raise ValueError(f"invalid {name} settings: {width=}, {steps=}, {num_classes=}")
        self.width, self.steps, self.num_classes = width, steps, num_classes
        self.node_features, self.edge_features = node_features, edge_features
        self.node_encoder = nn.Linear(node_features, width)
        self.edge_encoder = nn.Linear(edge_features, width)

    def settings(self) -> dict[str, int]:
        """Constructor arguments, as stored in checkpoints."""
        return {
            "width": self.width,
            "steps": self.steps,
            "node_features": self.node_features,
            "edge_features": self.edge_features,
            "num_classes": self.num_classes,
        }


class MIRO(GraphNetwork):
    """MIRO with the published layout: width 256, 5 node and 3 edge features -> 528,386 params.

    Every parameter is a plain `nn.Linear` with (out, in) weights in the published column order
    (hidden state first, then encoded input; sender, receiver, edge), so published tensors copy
    over one to one.
    """

    def __init__(
        self,
        width: int = 256,
        steps: int = 12,
        node_features: int = 5,
        edge_features: int = 3,
        num_classes: int = 0,
    ) -> None:
        super().__init__(width, steps, node_features, edge_features, num_classes)
        self.node_combine = nn.Linear(2 * width, width)  # [u, v']
        self.edge_combine = nn.Linear(2 * width, width)  # [f, e']
        self.message = nn.Linear(3 * width, width)  # [h_sender, h_receiver, e]
        self.update = nn.Linear(width, width)
        self.head = nn.Linear(width, 2)
        self.classifier = nn.Linear(width, num_classes) if num_classes > 0 else None

    def forward(self, x: Tensor, edge_index: Tensor, edge_attr: Tensor) -> MIROOutput:
        """Run all recurrent steps; same math as `literal_forward`, rearranged for speed.

        Each Linear on a concatenation is split into column blocks (``W [a, b] = W_a a + W_b b``)
        and consecutive linear maps are multiplied out once per call:
        - the encoded inputs enter only through fixed affine maps, so their contributions
          (biases included) are computed once, before the loop, from the raw 5 / 3 features;
        - ``h`` enters the message only as ``W_s h`` and ``W_r h``: both are computed per node
          (from ``u`` through ``W_s W_u`` and ``W_r W_u``) and then gathered onto the edges;
        - ``e`` enters only as ``W_e e``, i.e. ``(W_e W_f) f`` plus a constant;
        - at step 0, ``u = f = 0``, so the first message is the constant part alone.
        Per step this leaves one edge-level matmul (instead of five widths' worth) and one
        node-level matmul of width 2w, plus the gather, the receiver sum and the update; the
        edge tensor is built in place to keep large allocations (slow on CPU) to a minimum.
        """
        w = self.width
        sender, receiver = edge_index[0], edge_index[1]
        w_nu, w_nv = self.node_combine.weight[:, :w], self.node_combine.weight[:, w:]
        w_ef, w_ee = self.edge_combine.weight[:, :w], self.edge_combine.weight[:, w:]
        w_ms, w_mr, w_me = self.message.weight.split(w, dim=1)
        w_sr = torch.cat([w_ms, w_mr])  # (2w, w): sender and receiver projections of h

        # step-invariant parts: node projections of [v'] and the edge term of [e'] + biases
        hv_w = w_nv @ self.node_encoder.weight  # (w, node_features)
        hv_b = w_nv @ self.node_encoder.bias + self.node_combine.bias
        node_const = x @ (w_sr @ hv_w).T + w_sr @ hv_b  # (N, 2w)
        ee_w = w_me @ w_ee @ self.edge_encoder.weight  # (w, edge_features)
        ee_b = w_me @ (w_ee @ self.edge_encoder.bias + self.edge_combine.bias) + self.message.bias
        edge_const = edge_attr @ ee_w.T + ee_b  # (E, w)
        node_from_u = w_sr @ w_nu  # (2w, w): u -> [W_s h, W_r h] (without constants)
        edge_from_f = w_me @ w_ef  # (w, w): f -> W_e e (without constants)

        by_receiver, offsets = receiver_bags(receiver, x.shape[0])

        u = f = None
        displacements, logits = [], []
        for _ in range(self.steps):
            proj = node_const if u is None else torch.addmm(node_const, u, node_from_u.T)
            pre = proj[:, :w].index_select(0, sender)  # new (E, w); then in place
            pre.add_(proj[:, w:].index_select(0, receiver)).add_(edge_const)
            if f is not None:
                pre.addmm_(f, edge_from_f.T)
            f = pre.relu_()
            u = torch.relu(self.update(F.embedding_bag(by_receiver, f, offsets, mode="sum")))
            displacements.append(self.head(u))
            if self.classifier is not None:
                logits.append(self.classifier(u))
        return _output(displacements, logits, u)

    def infer(
        self, x: Tensor, edge_index: Tensor, edge_attr: Tensor, step: int = -1
    ) -> tuple[Tensor, Tensor | None]:
        """Displacement (N, 2) and class logits (N, C) (None without classes) of recurrent
        step ``step`` (python indexing), under ``torch.inference_mode``; equal to
        ``forward(...).displacements[step]`` / ``.logits[step]`` within float32 rounding.

        The math of `forward`, arranged to bound memory rather than allocations: the edge
        messages live in two (E, width) buffers that swap roles every step (the new message is
        accumulated in the one whose old content is no longer needed), the constant edge term
        is recomputed from the 3 raw edge features instead of being stored as a third (E,
        width) tensor (its bias folded into the sender projection), no per-step output is
        kept, and the loop stops at ``step``. Training uses `forward` (autograd needs its
        intermediate tensors anyway).
        """
        if not -self.steps <= step < self.steps:
            raise ValueError(f"step {step} out of range for a model with {self.steps} steps")
        w = self.width
        with torch.inference_mode():
            sender, receiver = edge_index[0], edge_index[1]
            w_nu, w_nv = self.node_combine.weight[:, :w], self.node_combine.weight[:, w:]
            w_ef, w_ee = self.edge_combine.weight[:, :w], self.edge_combine.weight[:, w:]
            w_ms, w_mr, w_me = self.message.weight.split(w, dim=1)
            w_sr = torch.cat([w_ms, w_mr])
            hv_w = w_nv @ self.node_encoder.weight
            hv_b = w_nv @ self.node_encoder.bias + self.node_combine.bias
            ee_b = w_me @ (w_ee @ self.edge_encoder.bias + self.edge_combine.bias)
            node_const = x @ (w_sr @ hv_w).T + w_sr @ hv_b  # (N, 2w)
            node_const[:, :w] += ee_b + self.message.bias  # once per edge, via its sender
            edge_w = (w_me @ w_ee @ self.edge_encoder.weight).T  # (edge_features, w)
            node_from_u, edge_from_f = w_sr @ w_nu, w_me @ w_ef
            by_receiver, offsets = receiver_bags(receiver, x.shape[0])

            u = f = spare = None
            for _ in range(step % self.steps + 1):
                proj = node_const if u is None else torch.addmm(node_const, u, node_from_u.T)
                if f is None:
                    f = proj[:, :w].index_select(0, sender)
                    spare = torch.empty_like(f)
                else:  # new message into spare, from the old one in f; then swap
                    torch.mm(f, edge_from_f.T, out=spare)
                    f, spare = spare, f
                    f.add_(torch.index_select(proj[:, :w], 0, sender, out=spare))
                f.add_(torch.index_select(proj[:, w:], 0, receiver, out=spare))
                f.addmm_(edge_attr, edge_w).relu_()
                u = torch.relu(self.update(F.embedding_bag(by_receiver, f, offsets, mode="sum")))
            logits = None if self.classifier is None else self.classifier(u)
            return self.head(u), logits


def receiver_bags(receiver: Tensor, num_nodes: int) -> tuple[Tensor, Tensor]:
    """The receiver sum as bags of `F.embedding_bag`: the edges ordered by receiver (stable), and
    where each node's incoming edges start in that order. Found by ``searchsorted`` rather than
    ``bincount``, so every shape follows from (E, N) alone, as compiled code and CUDA graphs
    need (`miro.core.training`, ``fast``)."""
    by_receiver = torch.argsort(receiver, stable=True)
    nodes = torch.arange(num_nodes, device=receiver.device, dtype=receiver.dtype)
    return by_receiver, torch.searchsorted(receiver[by_receiver], nodes)


def literal_forward(model: MIRO, x: Tensor, edge_index: Tensor, edge_attr: Tensor) -> MIROOutput:
    """Reference transcription of the published MIRO block: concatenate, then Linear.

    Uses ``model``'s weights. It is the ground truth that tests check `MIRO.forward` against,
    and the baseline of ``benchmarks/bench_core.py``; not used for training or inference.
    """
    sender, receiver = edge_index[0], edge_index[1]
    v, e_enc = model.node_encoder(x), model.edge_encoder(edge_attr)
    u, f = torch.zeros_like(v), torch.zeros_like(e_enc)
    displacements, logits = [], []
    for _ in range(model.steps):
        h = model.node_combine(torch.cat([u, v], dim=1))
        e = model.edge_combine(torch.cat([f, e_enc], dim=1))
        f = torch.relu(model.message(torch.cat([h[sender], h[receiver], e], dim=1)))
        u = torch.relu(model.update(torch.zeros_like(u).index_add(0, receiver, f)))
        displacements.append(model.head(u))
        if model.classifier is not None:
            logits.append(model.classifier(u))
    return _output(displacements, logits, u)


def _output(displacements: list[Tensor], logits: list[Tensor], hidden: Tensor) -> MIROOutput:
    return MIROOutput(
        displacements=torch.stack(displacements),
        logits=torch.stack(logits) if logits else None,
        hidden=hidden,
    )


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``"auto"`` -> CUDA when available, else CPU; anything else as given."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)
