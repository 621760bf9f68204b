"""Time the MIRO core on real benchmark FOVs: graph building, training step, inference.

The fast `MIRO.forward` and the literal transcription `miro.core.model.literal_forward` (the
reference the tests verify it against) run side by side on the same graphs and weights. A
training step is forward + loss + backward + Adam step on one mini-batch (``--batch`` FOVs,
fewer where the batch would exceed ``--max-batch-nodes``: the literal model's activations for
4 blinking FOVs of ~12,000 localizations do not fit in memory); inference is timed on each FOV
of that batch. Fast and literal runs alternate and keep their minimum over ``--repeats`` runs
(``--repeats-large`` for FOVs of >= 5,000 nodes); graph building, the minimum of 3 runs.
Prints Markdown tables.

    .venv/bin/python benchmarks/bench_core.py [--benchmark-dir DIR] [--threads 2]
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from torch_geometric.data import Batch, Data

from miro.config import benchmark_row
from miro.core.graph import fov_graph
from miro.core.losses import miro_loss
from miro.core.model import MIRO, literal_forward
from miro.data.benchmark import list_fovs
from miro.data.readers import read_localizations

REPO = Path(__file__).resolve().parents[1]
FOLDERS = ("Ground Truth - Scenario 8", "Multiple Blinking - Scenario 5")
FORWARDS: dict[str, Callable] = {
    "fast": lambda model, g: model(g.x, g.edge_index, g.edge_attr),
    "literal": lambda model, g: literal_forward(model, g.x, g.edge_index, g.edge_attr),
}
GRAPH_COLUMNS = {
    "folder": "data",
    "radius": "r",
    "nodes": "nodes/FOV",
    "edges": "edges/FOV",
    "build_ms": "graph build (ms/FOV)",
}
STEP_COLUMNS = {
    "folder": "data",
    "steps": "steps",
    "batch": "train batch (FOVs)",
    "train_fast_s": "train step fast (s)",
    "train_literal_s": "train step literal (s)",
    "train_ratio": "speed-up",
    "train_ratio_cpu": "speed-up (CPU time)",
    "infer_fast_ms": "inference fast (ms/FOV)",
    "infer_literal_ms": "inference literal (ms/FOV)",
    "infer_ratio": "speed-up",
    "infer_ratio_cpu": "speed-up (CPU time)",
}


def seconds_of(run: Callable, *args: object) -> np.ndarray:
    """(wall, process CPU) seconds of ``run(*args)``; CPU time suffers less from other load."""
    wall, cpu = time.perf_counter(), time.process_time()
    run(*args)
    return np.array([time.perf_counter() - wall, time.process_time() - cpu])


def train_step(model: MIRO, forward: Callable, batch: Data, optimizer) -> None:
    loss = miro_loss(forward(model, batch), batch)[0]
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()


def time_forwards(steps: int, batch: Data, repeats: int) -> dict[str, float]:
    """Training step (s) on ``batch`` and inference (ms per FOV) on its FOVs, for each forward.

    Fast and literal runs alternate, ``repeats`` times, and each keeps its minimum, so that
    load from other processes on a shared machine affects both alike.
    """
    graphs = batch.to_data_list()
    models, optimizers = {}, {}
    for name in FORWARDS:
        torch.manual_seed(0)
        models[name] = MIRO(steps=steps)
        optimizers[name] = torch.optim.Adam(models[name].parameters(), lr=1e-4)
    best = {(kind, name): np.full(2, np.inf) for kind in ("train", "infer") for name in FORWARDS}
    for _ in range(repeats):
        for name, forward in FORWARDS.items():
            model = models[name]
            seconds = seconds_of(train_step, model, forward, batch, optimizers[name])
            best["train", name] = np.minimum(best["train", name], seconds)
            with torch.inference_mode():
                seconds = np.mean([seconds_of(forward, model, g) for g in graphs], axis=0)
            best["infer", name] = np.minimum(best["infer", name], seconds)
    return {
        "train_fast_s": best["train", "fast"][0],
        "train_literal_s": best["train", "literal"][0],
        "train_ratio": best["train", "literal"][0] / best["train", "fast"][0],
        "train_ratio_cpu": best["train", "literal"][1] / best["train", "fast"][1],
        "infer_fast_ms": 1000 * best["infer", "fast"][0],
        "infer_literal_ms": 1000 * best["infer", "literal"][0],
        "infer_ratio": best["infer", "literal"][0] / best["infer", "fast"][0],
        "infer_ratio_cpu": best["infer", "literal"][1] / best["infer", "fast"][1],
    }


def bench_folder(folder: str, root: Path, args: argparse.Namespace) -> tuple[dict, list[dict]]:
    radius = float(benchmark_row(folder)["connectivity_radius_normalized"])
    files = list(list_fovs(root / folder).values())[: args.fovs]
    frames = [read_localizations(path) for path in files]
    coords = [f[["x", "y"]].to_numpy() for f in frames]
    labels = [f["index"].to_numpy().astype(int) for f in frames]
    graphs = [fov_graph(c, radius, labels=lab)[0] for c, lab in zip(coords, labels, strict=True)]
    large = max(g.num_nodes for g in graphs) >= 5000
    repeats = args.repeats_large if large else args.repeats
    build = [min(seconds_of(fov_graph, c, radius)[0] for _ in range(3)) for c in coords]
    graph_row = {
        "folder": folder,
        "radius": radius,
        "nodes": np.mean([g.num_nodes for g in graphs]),
        "edges": np.mean([g.num_edges for g in graphs]),
        "build_ms": 1000 * np.mean(build),
    }

    batch_size = min(args.batch, len(graphs))
    while batch_size > 1 and sum(g.num_nodes for g in graphs[:batch_size]) > args.max_batch_nodes:
        batch_size -= 1
    batch = Batch.from_data_list(graphs[:batch_size])
    rows = []
    for steps in args.steps:
        row = {"folder": folder, "steps": steps, "batch": batch_size}
        row.update(time_forwards(steps, batch, repeats))
        rows.append(row)
        print(row, flush=True)
    return graph_row, rows


def bench_synthetic(n: int, radius: float) -> dict:
    coords = np.random.default_rng(0).uniform(0, 2000, (n, 2))
    graph = fov_graph(coords, radius)[0]
    seconds = min(seconds_of(fov_graph, coords, radius)[0] for _ in range(3))
    return {
        "folder": f"uniform random, {n} points",
        "radius": radius,
        "nodes": n,
        "edges": graph.num_edges,
        "build_ms": 1000 * seconds,
    }


def markdown(rows: list[dict], columns: dict[str, str]) -> str:
    lines = ["| " + " | ".join(columns.values()) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        cells = [f"{row[k]:.3g}" if isinstance(row[k], float) else str(row[k]) for k in columns]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_root = os.environ.get("MIRO_BENCHMARK_DIR", REPO.parent / "shared" / "benchmark")
    parser.add_argument("--benchmark-dir", type=Path, default=Path(default_root))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--fovs", type=int, default=4)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--max-batch-nodes", type=int, default=15_000)
    parser.add_argument("--steps", type=int, nargs="+", default=[12, 20])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--repeats-large", type=int, default=2, help="for FOVs >= 5,000 nodes")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    graph_rows, step_rows = [], []
    for folder in FOLDERS:
        graph_row, rows = bench_folder(folder, args.benchmark_dir, args)
        graph_rows.append(graph_row)
        step_rows.extend(rows)
    graph_rows += [bench_synthetic(15_000, r) for r in (0.1, 0.01)]

    print(f"\ntorch {torch.__version__}, {args.threads} CPU threads\n")
    print(markdown(graph_rows, GRAPH_COLUMNS))
    print()
    print(markdown(step_rows, STEP_COLUMNS))


if __name__ == "__main__":
    main()
