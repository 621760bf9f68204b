"""MAGIK-S, the supervised graph-based clustering baseline (paper Supplementary Table 6; Methods,
"Comparison with a supervised graph-based clustering framework"; refs. 22 and 31).

Two GNNs of the MAGIK architecture, both on MIRO's graph (`miro.core.graph`: Delaunay edges shorter
than r, edge features ``[dx, dy, d] / r``) but with the absolute normalised coordinates
(``data.pos``) as node features:

- stage 1 classifies every localization as clustered (label != 0) or background;
- stage 2 sees the subgraph induced by the localizations stage 1 keeps and classifies every edge
  as joining two localizations of the same cluster or not. Edges with a probability below
  ``threshold`` are pruned; the clusters are the Louvain communities (`louvain_clusters`) of the
  pruned graph, edges weighted by their probability. Communities of fewer than
  `MIN_CLUSTER_SIZE` localizations are background: a cluster needs three localizations to have
  an area (the convex hulls of the IoU metric, `miro.evaluation.metrics`).

Both networks have ``layers`` Fingerprinting-GNN layers (`FGNNLayer`): an edge update from both
end nodes, then a ``heads``-head attention aggregation of the edges into the nodes
(``TransformerConv`` with edge features), each with a residual connection and layer
normalisation. They are trained with binary cross-entropy and Adam on the dataset's augmented
graphs (the data MIRO trains on), stage 2 on the subgraphs of the ground-truth clustered
localizations (a perfect stage 1), one after the other. Labels follow `miro.evaluation.metrics`: 0 =
background / noise, k >= 1 = cluster k.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import torch
from torch import Tensor, nn
from torch.nn import functional as F
from torch_geometric.data import Data
from torch_geometric.loader import DataLoader
from torch_geometric.nn import TransformerConv
from torch_geometric.utils import subgraph, to_undirected

from miro.core.checkpoint import Checkpoint, parameter_count, read_payload, versions
from miro.core.graph import fov_graph
from miro.core.model import resolve_device
from miro.evaluation.metrics import METRICS
from miro.files import write_csv_atomic, write_text_atomic, write_torch_atomic
from miro.outputs.tables import LABELS, format_pm, markdown_table

NAME = "MAGIK-S"
BACKGROUND = 0  # label of non-clustered localizations (ground truth and predictions)
MIN_CLUSTER_SIZE = 3
STAGES = ("stage1", "stage2")
COMPARED = (NAME, "MIRO", "DBSCAN")  # row order of the comparison table
COST_COLUMNS = ("parameters", "train_seconds")
COMPARISON_COLUMNS = (
    *("dataset", "method", "n", *COST_COLUMNS),
    *(c for m in METRICS for c in (m, f"{m}_sd")),
)
LOSS_COLUMNS = ("stage", "epoch", "loss", "seconds")


@dataclass(kw_only=True)
class MagikConfig:
    """Settings of one MAGIK-S run (config ``ablations.magik``; defaults: the paper's)."""

    width: int = 256
    layers: int = 3
    heads: int = 4
    epochs: int = 30
    lr: float = 1e-4
    batch_size: int = 4
    threshold: float = 0.5  # edges with a same-cluster probability below it are pruned
    seed: int = 0
    device: str = "auto"

    def __post_init__(self) -> None:
        if self.width % self.heads:
            raise ValueError(
                f"ablations.magik: width {self.width} must be a multiple of heads {self.heads} "
                "(the attention heads split the width)"
            )


def magik_config(section: Mapping, *, seed: int = 0, device: str = "auto") -> MagikConfig:
    """The `MagikConfig` of the resolved config section ``ablations.magik`` (its datasets are
    checked by `miro.config.load_settings`)."""
    keys = {f.name for f in fields(MagikConfig)} - {"seed", "device"}
    return MagikConfig(**{k: v for k, v in section.items() if k in keys}, seed=seed, device=device)


# --------------------------------------------------------------------------- targets
def node_targets(labels: Tensor) -> Tensor:
    """Stage 1 target per localization: 1 = clustered (label != 0), 0 = background."""
    return (labels != BACKGROUND).float()


def edge_targets(labels: Tensor, edge_index: Tensor) -> Tensor:
    """Stage 2 target per edge: 1 when both ends lie in the same cluster (not background)."""
    sender, receiver = labels[edge_index[0]], labels[edge_index[1]]
    return ((sender == receiver) & (sender != BACKGROUND)).float()


def stage1_graph(graph: Data) -> Data:
    """The stage 1 view of a labelled MIRO graph: coordinates, edges, node targets."""
    return Data(
        pos=graph.pos,
        edge_index=graph.edge_index,
        edge_attr=graph.edge_attr,
        target=node_targets(graph.labels),
    )


def stage2_graph(graph: Data, keep: Tensor) -> Data:
    """The subgraph induced by the localizations ``keep`` (bool, one per node), with the edge
    targets when ``graph`` has labels."""
    edge_index, edge_attr = subgraph(
        keep, graph.edge_index, graph.edge_attr, relabel_nodes=True, num_nodes=graph.num_nodes
    )
    sub = Data(pos=graph.pos[keep], edge_index=edge_index, edge_attr=edge_attr)
    if getattr(graph, "labels", None) is not None:
        sub.target = edge_targets(graph.labels[keep], edge_index)
    return sub


# --------------------------------------------------------------------------- networks
class FGNNLayer(nn.Module):
    """One Fingerprinting-GNN layer (MAGIK, ref. 31), with residual connections::

    e_ij <- LayerNorm(e_ij + GELU(W_e [h_j, h_i, e_ij]))
    h_i  <- LayerNorm(h_i + GELU(heads-head attention over the edges j -> i, keyed by e_ij))
    """

    def __init__(self, width: int, heads: int) -> None:
        super().__init__()
        self.edge_update = nn.Linear(3 * width, width)
        self.attention = TransformerConv(width, width // heads, heads=heads, edge_dim=width)
        self.edge_norm, self.node_norm = nn.LayerNorm(width), nn.LayerNorm(width)

    def forward(self, h: Tensor, e: Tensor, edge_index: Tensor) -> tuple[Tensor, Tensor]:
        sender, receiver = edge_index
        e = self.edge_norm(e + F.gelu(self.edge_update(torch.cat([h[sender], h[receiver], e], 1))))
        h = self.node_norm(h + F.gelu(self.attention(h, edge_index, e)))
        return h, e


class MagikGNN(nn.Module):
    """Encoders, ``layers`` `FGNNLayer`, and one logit per node (``level="node"``, stage 1,
    from ``h_i``) or per edge (``level="edge"``, stage 2, from ``[h_j, h_i, e_ij]``)."""

    def __init__(
        self,
        level: str,
        width: int,
        layers: int,
        heads: int,
        node_features: int = 2,
        edge_features: int = 3,
    ) -> None:
        super().__init__()
        if level not in ("node", "edge"):
            raise ValueError(f"level must be 'node' or 'edge', got {level!r}")
        self.level = level
        self.node_encoder = nn.Linear(node_features, width)
        self.edge_encoder = nn.Linear(edge_features, width)
        self.layers = nn.ModuleList(FGNNLayer(width, heads) for _ in range(layers))
        self.head = nn.Linear(width if level == "node" else 3 * width, 1)

    def forward(self, pos: Tensor, edge_index: Tensor, edge_attr: Tensor) -> Tensor:
        h, e = self.node_encoder(pos), self.edge_encoder(edge_attr)
        for layer in self.layers:
            h, e = layer(h, e, edge_index)
        if self.level == "edge":  # an edge is read out with both of its end nodes
            h = torch.cat([h[edge_index[0]], h[edge_index[1]], e], 1)
        return self.head(h).squeeze(-1)


class MagikS(nn.Module):
    """The two MAGIK-S networks: ``stage1`` (node classifier), ``stage2`` (edge classifier)."""

    def __init__(self, width: int = 256, layers: int = 3, heads: int = 4) -> None:
        super().__init__()
        self.width, self.num_layers, self.heads = width, layers, heads
        self.stage1 = MagikGNN("node", width, layers, heads)
        self.stage2 = MagikGNN("edge", width, layers, heads)

    def settings(self) -> dict[str, int]:
        """Constructor arguments, as stored in checkpoints."""
        return {"width": self.width, "layers": self.num_layers, "heads": self.heads}


# --------------------------------------------------------------------------- training
def fit(
    network: MagikGNN,
    graphs: Sequence[Data],
    cfg: MagikConfig,
    *,
    log: Callable[[str], None] | None = None,
) -> list[dict]:
    """Binary cross-entropy training of one stage on graphs with a ``target`` per node or edge
    (Adam, ``cfg.lr``, mini-batches of ``cfg.batch_size`` graphs, ``cfg.epochs`` epochs,
    shuffled by a generator seeded with ``cfg.seed``). Returns one row per epoch: ``epoch``,
    mean batch ``loss``, ``seconds``."""
    device = next(network.parameters()).device
    optimizer = torch.optim.Adam(network.parameters(), lr=cfg.lr)
    generator = torch.Generator().manual_seed(cfg.seed)
    loader = DataLoader(list(graphs), batch_size=cfg.batch_size, shuffle=True, generator=generator)
    history = []
    network.train()
    for epoch in range(1, cfg.epochs + 1):
        start, total = time.perf_counter(), 0.0
        for batch in loader:
            batch = batch.to(device)
            logits = network(batch.pos, batch.edge_index, batch.edge_attr)
            loss = F.binary_cross_entropy_with_logits(logits, batch.target)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item()
        history.append(
            {"epoch": epoch, "loss": total / len(loader), "seconds": time.perf_counter() - start}
        )
        if log is not None:
            log(", ".join(f"{k} {v:.6g}" for k, v in history[-1].items()))
    return history


def train_magik(
    graphs: Sequence[Data],
    cfg: MagikConfig,
    *,
    log: logging.Logger | Callable[[str], None] | None = None,
) -> tuple[MagikS, dict[str, list[dict]]]:
    """Train both stages on labelled MIRO graphs (`miro.data.augment`); returns the model (on CPU)
    and the loss history of each stage (`STAGES`). Deterministic for a seed on the CPU."""
    if isinstance(log, logging.Logger | logging.LoggerAdapter):
        log = log.info
    if not graphs or any(getattr(g, "labels", None) is None for g in graphs):
        raise ValueError("MAGIK-S needs labelled training graphs (build them with labels)")
    device = resolve_device(cfg.device)
    torch.manual_seed(cfg.seed)
    model = MagikS(cfg.width, cfg.layers, cfg.heads).to(device)
    stage2 = [stage2_graph(g, g.labels != BACKGROUND) for g in graphs]
    stage2 = [g for g in stage2 if g.num_edges]
    if not stage2:
        raise ValueError("MAGIK-S stage 2: no training graph has an edge inside a cluster")
    history = {}
    for stage, data in zip(STAGES, ([stage1_graph(g) for g in graphs], stage2), strict=True):
        if log is not None:
            log(f"{stage}: {len(data)} graphs")
        history[stage] = fit(getattr(model, stage), data, cfg, log=log)
    return model.cpu().eval(), history


def training_seconds(history: Mapping[str, Sequence[Mapping]]) -> float:
    """Wall time of the training loops: the epoch times of every stage, summed."""
    return float(sum(row["seconds"] for rows in history.values() for row in rows))


def losses_table(history: Mapping[str, Sequence[Mapping]]) -> pd.DataFrame:
    """The loss history as one table (`LOSS_COLUMNS`)."""
    rows = [{"stage": stage, **row} for stage, rows in history.items() for row in rows]
    return pd.DataFrame(rows, columns=list(LOSS_COLUMNS))


def save_magik(
    path: str | os.PathLike,
    model: MagikS,
    cfg: MagikConfig,
    *,
    radius: float,
    history: Mapping[str, list[dict]],
    n_graphs: int,
) -> None:
    """Write the checkpoint (weights, settings, radius, history, training time) atomically."""
    payload = {
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "model": model.settings(),
        "graph": {"radius": float(radius)},
        "train": asdict(cfg),
        "history": dict(history),
        "train_seconds": training_seconds(history),
        "parameters": parameter_count(model),
        "n_graphs": int(n_graphs),
        "versions": versions(),
    }
    write_torch_atomic(payload, path)


def load_magik(path: str | os.PathLike) -> Checkpoint:
    """Rebuild the model of a `save_magik` checkpoint (CPU, eval) with its radius, training
    settings (`MagikConfig` fields) and history (the epochs of both stages, ``stage`` named in
    each row). ValueError naming the file when it is unreadable or not a MAGIK-S checkpoint."""
    payload = read_payload(path, {"model", "state_dict", "graph", "train"}, NAME)
    try:
        model = MagikS(**payload["model"])
        model.load_state_dict(payload["state_dict"])
    except (TypeError, ValueError, RuntimeError) as err:
        raise ValueError(f"{path}: weights do not match the stored model settings ({err})") from err
    history = payload.get("history") or {}
    return Checkpoint(
        path=Path(path),
        model=model.eval(),
        radius=float(payload["graph"]["radius"]),
        fov_nm=None,
        train=dict(payload["train"]),
        history=[{"stage": stage, **row} for stage, rows in history.items() for row in rows],
        n_graphs=payload.get("n_graphs"),
        payload=payload,
    )


# --------------------------------------------------------------------------- clustering
def louvain_clusters(
    n_nodes: int,
    edge_index: Tensor,
    probability: Tensor,
    threshold: float,
    *,
    seed: int = 0,
    min_size: int = MIN_CLUSTER_SIZE,
) -> np.ndarray:
    """Labels (0 = background, 1..K) of the Louvain communities of a pruned graph.

    The two directions of an edge get the mean of their probabilities; edges below
    ``threshold`` are pruned, the rest weighted by their probability. Communities of fewer than
    ``min_size`` nodes (isolated nodes included) are background; clusters are numbered by their
    first node.
    """
    pairs, weight = to_undirected(edge_index, probability, num_nodes=n_nodes, reduce="mean")
    keep = (pairs[0] < pairs[1]) & (weight >= threshold)
    graph = nx.Graph()
    graph.add_nodes_from(range(n_nodes))
    graph.add_weighted_edges_from(
        zip(pairs[0, keep].tolist(), pairs[1, keep].tolist(), weight[keep].tolist(), strict=True)
    )
    communities = nx.algorithms.community.louvain_communities(graph, weight="weight", seed=seed)
    clusters = sorted((sorted(c) for c in communities if len(c) >= min_size), key=lambda c: c[0])
    labels = np.full(n_nodes, BACKGROUND, dtype=np.int64)
    for k, members in enumerate(clusters, start=1):
        labels[members] = k
    return labels


@torch.inference_mode()
def predict_graph(
    model: MagikS, graph: Data, threshold: float, *, seed: int = 0, device: str = "auto"
) -> np.ndarray:
    """MAGIK-S labels of the nodes of one MIRO graph (stage 1, stage 2, Louvain); ``model`` is
    moved to ``device``."""
    device = resolve_device(device)
    model = model.to(device).eval()
    graph = graph.to(device)
    keep = torch.sigmoid(model.stage1(graph.pos, graph.edge_index, graph.edge_attr)) >= 0.5
    labels = np.full(graph.num_nodes, BACKGROUND, dtype=np.int64)
    sub = stage2_graph(graph, keep)
    if not sub.num_edges:
        return labels
    probability = torch.sigmoid(model.stage2(sub.pos, sub.edge_index, sub.edge_attr))
    labels[keep.cpu().numpy()] = louvain_clusters(
        sub.num_nodes, sub.edge_index.cpu(), probability.cpu(), threshold, seed=seed
    )
    return labels


def predict_labels(
    model: MagikS,
    coords_nm: np.ndarray,
    radius: float,
    threshold: float,
    *,
    seed: int = 0,
    device: str = "auto",
) -> np.ndarray:
    """MAGIK-S labels (0 = background, one per localization) of one FOV (n, 2) in nm: MIRO's
    graph at ``radius`` (`miro.core.graph.fov_graph`), then `predict_graph`."""
    graph, _ = fov_graph(coords_nm, radius)
    return predict_graph(model, graph, threshold, seed=seed, device=device)


# --------------------------------------------------------------------------- comparison table
def comparison_table(metrics: pd.DataFrame, costs: pd.DataFrame) -> pd.DataFrame:
    """Supplementary Table 6: per dataset and method (`COMPARED`), mean and sd (ddof = 1) of
    every metric over the test FOVs, with ``n`` FOVs, and the method's ``parameters`` and
    ``train_seconds`` from ``costs`` (columns dataset, method, `COST_COLUMNS`).

    ``metrics`` is the long table (dataset, fov, method, metric, value) of all methods; every
    method of a dataset must be evaluated on the same FOVs.
    """
    for dataset, group in metrics.groupby("dataset", sort=False):
        fovs = {m: frozenset(g["fov"]) for m, g in group.groupby("method")}
        if set(fovs) != set(COMPARED) or len(set(fovs.values())) != 1:
            raise ValueError(
                f"{dataset}: every method of {list(COMPARED)} needs the same test FOVs, got "
                f"{ {m: sorted(f) for m, f in fovs.items()} }"
            )
    grouped = metrics.groupby(["dataset", "method", "metric"], sort=False)["value"]
    stats = grouped.agg(["mean", "std"]).unstack("metric")
    wide = pd.concat({"": stats["mean"], "_sd": stats["std"]}, axis=1)
    wide.columns = [f"{metric}{suffix}" for suffix, metric in wide.columns]
    wide["n"] = metrics.groupby(["dataset", "method"])["fov"].nunique()
    rows = pd.MultiIndex.from_product([metrics["dataset"].unique(), COMPARED])
    table = wide.reindex(rows).rename_axis(["dataset", "method"]).reset_index()
    table = table.merge(costs, on=["dataset", "method"], how="left")
    return table[list(COMPARISON_COLUMNS)].astype({"n": int, "parameters": "Int64"})


def write_comparison(
    table: pd.DataFrame,
    csv_path: str | os.PathLike,
    md_path: str | os.PathLike,
    preset: str = "unspecified",
) -> None:
    """Write `comparison_table` as CSV (numbers) and Markdown (``mean ± sd`` cells)."""
    write_csv_atomic(table, csv_path)
    header = ["Dataset", "Method", "n", "Parameters", "Training (s)"]
    header += [LABELS[m] for m in METRICS]
    rows = [
        [
            rec["dataset"],
            rec["method"],
            str(rec["n"]),
            "–" if pd.isna(rec["parameters"]) else f"{rec['parameters']:,}",
            "–" if pd.isna(rec["train_seconds"]) else f"{rec['train_seconds']:.1f}",
            *(format_pm(rec[m], rec[f"{m}_sd"]) for m in METRICS),
        ]
        for rec in table.to_dict("records")
    ]
    title = (
        f"**Supplementary Table 6. {NAME} vs MIRO + DBSCAN and DBSCAN, mean ± sd over the test "
        f"FOVs (preset: {preset}).** Training: wall time of the training loops (MAGIK-S: both "
        "stages).\n\n"
    )
    write_text_atomic(md_path, title + markdown_table(header, rows))
