"""Peak memory and time of squeezing one large simulated FOV: `MIRO.forward` vs `MIRO.infer`.

``forward`` is the training forward pass run under ``torch.inference_mode`` (what
``squeeze_many`` used before): it stores the constant edge term and builds each step's message
in a fresh (edges, width) tensor, and keeps every step's output. ``infer`` is the inference
path `squeeze_many` uses now: two (edges, width) buffers, no per-step outputs, stops at the
step asked for (here the last, so both run all steps). The graph is built once here
(`miro.core.graph.fov_graph`, timed) and saved; each variant then runs in a fresh process
(peak RSS is a per-process high-water mark) that loads it, so its peak RSS is the loaded
graph plus that variant's forward pass. The two outputs are compared, and the estimate of
`miro.core.squeeze.inference_bytes` is printed next to the measured increase.

    PYTHONPATH=... python benchmarks/bench_squeeze_memory.py --localizations 200000 \\
        --width 256 --steps 12 --threads 2

Prints a Markdown table. Measured on the shared 2-core machine (loaded), 50,000 localizations
(299,898 edges), width 256, 12 steps, 2 threads: forward 92 s, +1437 MiB over the loaded
graph (peak RSS 1837 MiB); infer 58 s, +945 MiB (peak 1345 MiB; estimate 987 MiB); outputs
equal to 1.2e-7.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from miro.core.graph import fov_graph
from miro.core.model import MIRO
from miro.core.squeeze import inference_bytes

VARIANTS = ("forward", "infer")
MIB = 2**20


def simulated_fov(n: int, seed: int = 0) -> np.ndarray:
    """``n`` localizations (nm) on a square of 2 µm per 10,000 localizations (benchmark
    density): half uniform background, half in Gaussian clusters of 50 (sd 15 nm)."""
    rng = np.random.default_rng(seed)
    side = 2000.0 * np.sqrt(n / 10_000)
    background = rng.uniform(0, side, (n - n // 2, 2))
    centres = rng.uniform(0, side, (max(1, n // 100), 2))
    clustered = centres[rng.integers(0, len(centres), n // 2)] + rng.normal(0, 15, (n // 2, 2))
    return np.vstack([background, clustered])


def current_rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / MIB


def child(variant: str, graph_path: Path, out_path: Path, width: int, steps: int) -> None:
    """Run one variant on the saved graph; write its timings, memory and output."""
    graph = torch.load(graph_path, weights_only=False)
    torch.manual_seed(0)
    model = MIRO(width=width, steps=steps).eval()
    before = current_rss_mib()
    start = time.perf_counter()
    with torch.inference_mode():
        if variant == "forward":
            displacement = model(graph.x, graph.edge_index, graph.edge_attr).displacements[-1]
        else:
            displacement = model.infer(graph.x, graph.edge_index, graph.edge_attr)[0]
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    np.save(out_path.with_suffix(".npy"), displacement.numpy())
    out_path.write_text(json.dumps({"seconds": seconds, "before": before, "peak": peak}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--localizations", type=int, default=200_000)
    parser.add_argument("--width", type=int, default=256)
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--radius", type=float, default=0.2, help="graph radius (normalised)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--variants", nargs="+", choices=VARIANTS, default=list(VARIANTS))
    parser.add_argument("--child", choices=VARIANTS, help=argparse.SUPPRESS)
    parser.add_argument("--graph", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.child:
        child(args.child, args.graph, args.out, args.width, args.steps)
        return

    start = time.perf_counter()
    graph, _ = fov_graph(simulated_fov(args.localizations), args.radius)
    build = time.perf_counter() - start
    estimate = inference_bytes(args.width, graph.num_nodes, graph.num_edges) / MIB
    print(
        f"{graph.num_nodes} localizations, {graph.num_edges} directed edges, width "
        f"{args.width}, {args.steps} steps, {args.threads} threads; graph built in {build:.1f} s; "
        f"inference_bytes estimate {estimate:.0f} MiB\n"
    )
    print("| variant | forward (s) | RSS before (MiB) | peak RSS (MiB) | increase (MiB) |")
    print("|---|---|---|---|---|")
    outputs = {}
    with tempfile.TemporaryDirectory() as tmp:
        graph_path = Path(tmp) / "graph.pt"
        torch.save(graph, graph_path)
        for variant in args.variants:
            out = Path(tmp) / f"{variant}.json"
            subprocess.run(
                [
                    *(sys.executable, __file__, "--child", variant, "--graph", str(graph_path)),
                    *("--out", str(out), "--width", str(args.width), "--steps", str(args.steps)),
                    *("--threads", str(args.threads)),
                ],
                check=True,
            )
            r = json.loads(out.read_text())
            outputs[variant] = np.load(out.with_suffix(".npy"))
            print(
                f"| {variant} | {r['seconds']:.1f} | {r['before']:.0f} | {r['peak']:.0f} | "
                f"{r['peak'] - r['before']:.0f} |"
            )
    if len(outputs) == 2:
        diff = np.abs(outputs["forward"] - outputs["infer"]).max()
        print(f"\nmax |forward - infer| displacement: {diff:.2e}")


if __name__ == "__main__":
    main()
