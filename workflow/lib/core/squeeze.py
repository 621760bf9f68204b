"""Inference: squeeze FOVs with a trained MIRO (spec "Targets, loss, training", Inference).

Each FOV is normalised, turned into a graph, and every localization is moved to
``pos - r * y_hat`` (the displacement of one recurrent step, by default the last); the result is
mapped back to nm with the exact inverse of the normalisation, ready for DBSCAN in nm.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch_geometric.data import Batch

from miro.core.graph import fov_graph
from miro.core.model import MIRO, resolve_device


@dataclass
class SqueezeResult:
    squeezed_nm: np.ndarray  # (N, 2) squeezed coordinates, nm
    class_probs: np.ndarray | None  # (N, C) class probabilities at the same step, or None


def squeeze(
    model: MIRO,
    coords_nm: np.ndarray,
    radius: float,
    *,
    device: str | torch.device = "auto",
    step: int = -1,
) -> SqueezeResult:
    """Squeeze one FOV; see `squeeze_many`."""
    return squeeze_many(model, [coords_nm], radius, device=device, step=step)[0]


def squeeze_many(
    model: MIRO,
    fovs: list[np.ndarray],
    radius: float,
    *,
    device: str | torch.device = "auto",
    step: int = -1,
    batch_size: int = 8,
) -> list[SqueezeResult]:
    """Squeeze several FOVs, ``batch_size`` of them per forward pass (one PyG ``Batch``).

    ``step`` picks the recurrent step whose displacement is applied (python indexing; -1 =
    last). The model is moved to ``device`` ("auto": CUDA when available).
    """
    if not -model.steps <= step < model.steps:
        raise ValueError(f"step {step} out of range for a model with {model.steps} steps")
    device = resolve_device(device)
    model.to(device)
    results = []
    with torch.inference_mode():
        for start in range(0, len(fovs), batch_size):
            chunk = fovs[start : start + batch_size]
            graphs, norms = zip(*(fov_graph(c, radius) for c in chunk), strict=True)
            batch = Batch.from_data_list(list(graphs)).to(device)
            out = model(batch.x, batch.edge_index, batch.edge_attr)
            shift = (radius * out.displacements[step]).cpu().double().numpy()
            probs = None if out.logits is None else out.logits[step].softmax(-1).cpu().numpy()
            for i, (coords, norm) in enumerate(zip(chunk, norms, strict=True)):
                nodes = slice(batch.ptr[i].item(), batch.ptr[i + 1].item())
                squeezed = norm.inverse(norm.forward(coords) - shift[nodes])
                results.append(
                    SqueezeResult(
                        squeezed_nm=squeezed,
                        class_probs=None if probs is None else probs[nodes],
                    )
                )
    return results
