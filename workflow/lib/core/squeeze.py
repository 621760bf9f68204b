"""Inference: squeeze FOVs with a trained MIRO (paper Methods, "MIRO architecture", inference).

Each FOV is normalised (per-axis min-max, as in training; or, for new data, at a fixed scale: the
extent of the training FOVs, so that a FOV smaller than that is padded rather than stretched and
the connectivity radius keeps its training length in nm), turned into a graph, and every
localization is moved to ``pos - r * y_hat`` (the displacement of one recurrent step, by default
the last); the result is mapped back to nm with the exact inverse of the normalisation, ready
for DBSCAN in nm.

FOVs are batched by size, not by count: a batch (one PyG ``Batch``) takes FOVs while the
estimated memory of its forward pass (:func:`inference_bytes`) stays within ``memory_mb``, so
many small FOVs share a pass and a large one runs alone. The pass is `MIRO.infer`, which holds
two (edges, width) tensors at a time and stops at the step asked for.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch_geometric.data import Batch, Data

from miro.core.graph import Normalization, build_graph
from miro.core.model import MIRO, resolve_device
from miro.errors import about

log = logging.getLogger(__name__)

#: Default memory budget of one forward pass (MiB): a few batched benchmark FOVs, and well
#: within a 2-core / 24 GB machine or a GPU; a FOV above it runs alone.
MEMORY_MB = 2048.0
#: Width assumed in the memory estimate of a network that does not declare one.
WIDTH = 256


@dataclass
class SqueezeResult:
    squeezed_nm: np.ndarray  # (N, 2) squeezed coordinates, nm
    class_probs: np.ndarray | None  # (N, C) class probabilities at the same step, or None


def inference_bytes(width: int, nodes: int, edges: int) -> int:
    """Estimated peak memory (bytes) of `MIRO.infer` on a graph of ``nodes`` and ``edges``
    (directed): two float32 (edges, width) message buffers, about eight (nodes, width) node
    tensors (projections, hidden state, receiver sums), and the graph (sender and receiver
    indices, receiver order, 3 edge features: 36 bytes per edge). ``benchmarks/
    bench_squeeze_memory.py`` measures it against the real peak."""
    return 4 * width * (2 * edges + 8 * nodes) + 36 * edges


def squeeze(
    model: MIRO,
    coords_nm: np.ndarray,
    radius: float,
    *,
    device: str | torch.device = "auto",
    step: int = -1,
    scale_nm: float | None = None,
) -> SqueezeResult:
    """Squeeze one FOV; see `squeeze_many`."""
    return squeeze_many(model, [coords_nm], radius, device=device, step=step, scale_nm=scale_nm)[0]


def squeeze_many(
    model: MIRO,
    fovs: Sequence[np.ndarray],
    radius: float,
    *,
    device: str | torch.device = "auto",
    step: int = -1,
    memory_mb: float = MEMORY_MB,
    batch_size: int | None = None,
    names: Sequence[str] | None = None,
    scale_nm: float | None = None,
) -> list[SqueezeResult]:
    """Squeeze several FOVs, as many per forward pass as fit in ``memory_mb`` MiB
    (:func:`inference_bytes`; a FOV above the budget runs alone, with a warning) and at most
    ``batch_size`` (None: no limit on the count). Batching does not change the results.

    ``model`` is a `MIRO` (run through `MIRO.infer`) or another network whose forward returns
    a `~miro.core.model.MIROOutput` (e.g. the ablations' `~miro.core.mpnn.MPNN`), run whole.
    ``step`` picks the recurrent step whose displacement is applied (python indexing; -1 =
    last). The model is moved to ``device`` ("auto": CUDA when available). ``names`` (one per
    FOV, e.g. "FOV 7 (fovs/fov_7.csv)") label errors and warnings; by default "FOV #i".

    ``scale_nm`` None: each FOV is min-max normalised per axis (`Normalization.fit`, the
    benchmark FOVs as in training). A length in nm: every FOV is divided by it on both axes (offset
    at its minimum), the authors' fixed scale for new data (the training FOV extent; spec
    "Applying a model to new data"): a FOV smaller than ``scale_nm`` is padded, not stretched.
    """
    if not -model.steps <= step < model.steps:
        raise ValueError(f"step {step} out of range for a model with {model.steps} steps")
    if not memory_mb > 0 or (batch_size is not None and batch_size < 1):
        raise ValueError(f"need memory_mb > 0 and batch_size >= 1, got {memory_mb}, {batch_size}")
    if scale_nm is not None and not (np.isfinite(scale_nm) and scale_nm > 0):
        raise ValueError(f"scale_nm must be a positive length in nm, got {scale_nm}")
    names = list(names) if names is not None else [f"FOV #{i}" for i in range(len(fovs))]
    if len(names) != len(fovs):
        raise ValueError(f"{len(names)} names for {len(fovs)} FOVs")
    device = resolve_device(device)
    model.to(device)
    budget = memory_mb * 2**20
    results: list[SqueezeResult] = []
    batch: list[tuple[np.ndarray, Data, Normalization]] = []
    used = 0
    for coords, name in zip(fovs, names, strict=True):
        with about(name):
            norm = _normalization(coords, scale_nm)
            graph = build_graph(norm.forward(coords), radius)
        need = inference_bytes(getattr(model, "width", WIDTH), graph.num_nodes, graph.num_edges)
        full = batch_size is not None and len(batch) >= batch_size
        if batch and (used + need > budget or full):
            results += _squeeze_batch(model, batch, radius, device, step)
            batch, used = [], 0
        if need > budget:
            log.warning(
                "%s: %d localizations, %d edges need about %.0f MiB for one forward pass, "
                "above the budget of %.0f MiB: squeezed alone (apply.squeeze_large squeezes "
                "window by window)",
                name,
                graph.num_nodes,
                graph.num_edges,
                need / 2**20,
                memory_mb,
            )
        batch.append((coords, graph, norm))
        used += need
    if batch:
        results += _squeeze_batch(model, batch, radius, device, step)
    return results


def _normalization(coords: np.ndarray, scale_nm: float | None) -> Normalization:
    """Per-axis min-max (``scale_nm`` None) or a fixed scale on both axes from the minimum."""
    if scale_nm is None:
        return Normalization.fit(coords)
    coords = np.asarray(coords, dtype=np.float64)
    offset = coords.min(axis=0) if coords.ndim == 2 and len(coords) else np.zeros(2)
    return Normalization(offset=offset, scale=np.full(2, float(scale_nm)))


def _squeeze_batch(
    model: MIRO,
    batch: list[tuple[np.ndarray, Data, Normalization]],
    radius: float,
    device: torch.device,
    step: int,
) -> list[SqueezeResult]:
    """One forward pass over the FOVs of ``batch`` (coordinates, graph, normalisation)."""
    graphs = Batch.from_data_list([graph for _, graph, _ in batch]).to(device)
    with torch.inference_mode():
        if isinstance(model, MIRO):
            displacement, logits = model.infer(graphs.x, graphs.edge_index, graphs.edge_attr, step)
        else:  # another network with MIRO's outputs (the ablations' MPNN)
            out = model(graphs.x, graphs.edge_index, graphs.edge_attr)
            displacement = out.displacements[step]
            logits = None if out.logits is None else out.logits[step]
    shift = (radius * displacement).cpu().double().numpy()
    probs = None if logits is None else logits.softmax(-1).cpu().numpy()
    ptr = graphs.ptr.tolist()
    results = []
    for i, (coords, _, norm) in enumerate(batch):
        nodes = slice(ptr[i], ptr[i + 1])
        results.append(
            SqueezeResult(
                squeezed_nm=norm.inverse(norm.forward(coords) - shift[nodes]),
                class_probs=None if probs is None else probs[nodes],
            )
        )
    return results
