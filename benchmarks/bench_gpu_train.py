"""Train benchmark datasets of a preset exactly as the workflow's augment and train rules do,
timing each part: for the GPU validation of the paper preset (docs/gpu-validation.md).

Two modes.

**One training** (default): one dataset, the preset's settings, ``model.pt``, ``losses.csv`` and
``timing.json`` written to ``--out``. ``--method magik`` trains the MAGIK-S baseline
(`miro.studies.magik`, paper-size settings) on the same graphs instead, as rule magik_train does,
for the training-time comparison of Supp. Table 6. The checkpoint drops into
``results/<dataset>/model/model.pt`` of a workflow run of the same preset, which then does the
rest (transform, DBSCAN, metrics, Table 1) on any machine::

    python benchmarks/bench_gpu_train.py --config presets/paper.yaml --dataset GT8 \\
        --out results-gpu --n-jobs 16

**Throughput** (``--throughput``; issue 18): how many of the paper's trainings one GPU does per
hour. For GT8 and MB8 (``--datasets``), on ``--timing-graphs`` of the preset's augmented graphs
and ``--epochs`` epochs, it runs the eager and the fast training step (`miro.core.training`,
``fast_training``), each as one training alone and as N concurrent training processes, and
reports per run: the steady seconds per epoch (epochs after the first, which holds the
compilation), the training's projected seconds at the preset's graphs and epochs, the peak
memory per job (torch's allocator, and the whole process as ``nvidia-smi`` sees it), the safe
N = floor(0.9 x GPU memory / per-process peak) (`miro.core.training.jobs_per_gpu`), trainings
per hour, whether the fast step's losses follow the eager ones (same seed and graphs), and the
projected wall time of the preset's 20 dataset trainings. N is the safe N capped by
``--max-concurrent``. Every result is appended to ``--out/throughput.json`` as soon as it is
measured, so a run cut short still reports. On an H200 the defaults take about 7 minutes::

    python benchmarks/bench_gpu_train.py --throughput --out $OUT/gpu --n-jobs 16

``--smoke`` is the same on a tiny network (width 16, 3 steps, 8 graphs, 2 concurrent; CPU or
GPU) to check the script itself in a minute. The benchmark folders come from
``--benchmark-dir``, default the first of ``resources/benchmark`` (the workflow's download
folder; a GPU machine gets the two folders copied there and carried), ``shared/benchmark``,
``../shared/benchmark`` and ``/work/shared/benchmark`` that exists.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import torch
import yaml

from miro.config import dataset_settings
from miro.core.training import MEMORY_COLUMN, config_from_settings, jobs_per_gpu, train
from miro.data.augment import augment_graphs, load_graphs, save_graphs, settings_for_dataset
from miro.data.benchmark import list_fovs
from miro.data.readers import read_localizations
from miro.studies.magik import MagikConfig, save_magik, train_magik

BENCHMARK_DIRS = ("resources/benchmark", "shared/benchmark", "../shared/benchmark")
BENCHMARK_DIRS += ("/work/shared/benchmark",)
SMOKE = {"width": 16, "steps": 3}  # --smoke's network
GPU_RESERVE = 0.1  # fraction of the GPU memory the safe N keeps free


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=Path("presets/paper.yaml"))
    parser.add_argument("--dataset", default="GT8")
    parser.add_argument("--benchmark-dir", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--n-jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument(
        "--epochs", type=int, help="override (default: the preset's; 3 with --throughput)"
    )
    parser.add_argument("--n-graphs", type=int, help="override (default: the preset's)")
    parser.add_argument("--seed", type=int, help="default: the preset's seed")
    parser.add_argument("--method", choices=("miro", "magik"), default="miro")
    parser.add_argument("--fast", action="store_true", help="the fast training step")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, default=2, help="torch threads per training job")
    parser.add_argument("--throughput", action="store_true", help="the throughput suite")
    parser.add_argument("--datasets", nargs="+", default=["GT8", "MB8"])
    parser.add_argument("--timing-graphs", type=int, default=400)
    parser.add_argument("--max-concurrent", type=int, default=8)
    parser.add_argument("--smoke", action="store_true", help="tiny network, 8 graphs")
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)  # graphs of one job
    args = parser.parse_args()
    if args.worker:
        worker(args)
    elif args.throughput:
        throughput(args)
    else:
        one_training(args)


def benchmark_dir(given: Path | None) -> Path:
    if given is not None:
        return given
    for candidate in map(Path, BENCHMARK_DIRS):
        if candidate.is_dir():
            return candidate
    raise SystemExit(
        f"no benchmark folder in {BENCHMARK_DIRS}: copy the dataset folders (upstream layout) "
        "to resources/benchmark, or pass --benchmark-dir"
    )


def dataset_graphs(args: argparse.Namespace, name: str, n_graphs: int) -> tuple[dict, list]:
    """The dataset's settings, train FOVs (xy) and ``n_graphs`` augmented graphs, as rule
    augment builds them (the preset's seed)."""
    config = yaml.safe_load(args.config.read_text())
    settings = dataset_settings(config, name)
    if settings["source"] != "benchmark":
        raise SystemExit(f"{name}: not a benchmark dataset of {args.config}")
    seed = config.get("seed", 0) if args.seed is None else args.seed
    files = list_fovs(benchmark_dir(args.benchmark_dir) / settings["folder"])
    fovs = [read_localizations(files[i], fmt="benchmark") for i in settings["train_fovs"]]
    graphs = augment_graphs(
        fovs,
        n=n_graphs,
        settings=settings_for_dataset(settings, fovs),
        seed=seed,
        radius=settings["model"]["radius"],
        n_jobs=args.n_jobs,
    )
    return {
        "settings": settings,
        "seed": seed,
        "xy": [f[["x", "y"]].to_numpy() for f in fovs],
    }, graphs


def machine() -> dict:
    device = torch.cuda.get_device_name() if torch.cuda.is_available() else "cpu"
    return {"device": device, "torch": torch.__version__, "python": platform.python_version()}


def one_training(args: argparse.Namespace) -> None:
    timing = machine()
    start = time.perf_counter()
    config = yaml.safe_load(args.config.read_text())
    n_graphs = args.n_graphs or dataset_settings(config, args.dataset)["augment"]["n_graphs"]
    data, graphs = dataset_graphs(args, args.dataset, n_graphs)
    timing["augment_s"] = time.perf_counter() - start
    timing["n_graphs"] = len(graphs)
    timing["mean_nodes"] = sum(g.num_nodes for g in graphs) / len(graphs)
    print(f"augmented {len(graphs)} graphs in {timing['augment_s']:.1f} s", flush=True)

    args.out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    if args.method == "magik":
        cfg = MagikConfig(seed=data["seed"], **({"epochs": args.epochs} if args.epochs else {}))
        print(cfg, flush=True)
        model, history = train_magik(graphs, cfg, log=lambda line: print(line, flush=True))
        radius, n = graphs[0].radius, len(graphs)
        save_magik(args.out / "magik.pt", model, cfg, radius=radius, history=history, n_graphs=n)
        epochs = cfg.epochs
    else:
        overrides = {"seed": data["seed"], "device": args.device, "fast": args.fast}
        if args.epochs:
            overrides["epochs"] = args.epochs
        cfg = config_from_settings(data["settings"], graphs, data["xy"], **overrides)
        print(cfg, flush=True)
        work = args.out / "work"
        final = train(graphs, cfg, work, log=lambda line: print(line, flush=True))
        shutil.copyfile(final, args.out / "model.pt")
        shutil.copyfile(work / "losses.csv", args.out / "losses.csv")
        epochs = cfg.epochs
    timing["train_s"] = time.perf_counter() - start
    timing["epochs"] = epochs
    timing["method"] = args.method
    (args.out / "timing.json").write_text(json.dumps(timing, indent=2))
    print(json.dumps(timing, indent=2))


# ------------------------------------------------------------------------------ throughput
def worker(args: argparse.Namespace) -> None:
    """One training job of the throughput suite: the graphs of ``--worker`` (with its
    ``settings.json``), its losses.csv and wall time in ``--out``."""
    start = time.perf_counter()
    job = json.loads((args.worker.parent / "settings.json").read_text())
    graphs = load_graphs(args.worker)
    torch.set_num_threads(args.threads)
    overrides = {**job["overrides"], "fast": args.fast, "device": args.device}
    cfg = config_from_settings(job["settings"], graphs, None, **overrides)
    train(graphs, cfg, args.out, log=lambda line: None)
    (args.out / "wall.json").write_text(json.dumps({"wall_s": time.perf_counter() - start}))


class GpuMemoryPoller:
    """The largest GPU memory (MiB) that ``nvidia-smi`` reports per process while it runs."""

    def __init__(self) -> None:
        self.peak: dict[int, float] = {}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._poll, daemon=True)
        self.available = shutil.which("nvidia-smi") is not None

    def __enter__(self) -> GpuMemoryPoller:
        if self.available:
            self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        if self.available:
            self.thread.join()

    def _poll(self) -> None:
        query = [
            "nvidia-smi",
            "--query-compute-apps=pid,used_memory",
            "--format=csv,noheader,nounits",
        ]
        while not self.stop.wait(0.5):
            out = subprocess.run(query, capture_output=True, text=True).stdout
            for line in out.strip().splitlines():
                pid, used = (int(float(v)) for v in line.split(","))
                self.peak[pid] = max(self.peak.get(pid, 0), used)


def run_jobs(
    job_dir: Path, fast: bool, concurrent: int, device: str, epochs_needed: int, threads: int
) -> dict:
    """``concurrent`` training processes at once on the graphs of ``job_dir``; their timings."""
    runs = []
    with GpuMemoryPoller() as gpu:
        start = time.perf_counter()
        for i in range(concurrent):
            out = job_dir / f"{'fast' if fast else 'eager'}-{concurrent}-{i}"
            shutil.rmtree(out, ignore_errors=True)
            cmd = [
                sys.executable,
                __file__,
                "--worker",
                str(job_dir / "graphs.pt"),
                "--out",
                str(out),
            ]
            cmd += ["--device", device, "--threads", str(threads)] + (["--fast"] if fast else [])
            out.mkdir(parents=True)
            with (out / "job.log").open("w") as log:  # the child holds its own handle
                runs.append((out, subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)))
        pids = [p.pid for _, p in runs]
        failed = [out for out, p in runs if p.wait() != 0]
        wall = time.perf_counter() - start
    if failed:
        tail = (failed[0] / "job.log").read_text()[-3000:]
        raise SystemExit(f"training jobs failed: {failed}; the first one's log ends:\n{tail}")
    losses = [pd.read_csv(out / "losses.csv") for out, _ in runs]
    steady = [t["seconds"].iloc[1:].mean() for t in losses] if epochs_needed > 1 else None
    process_mb = [gpu.peak.get(pid) for pid in pids]
    return {
        "wall_s": wall,
        "first_epoch_s": max(t["seconds"].iloc[0] for t in losses),
        "steady_epoch_s": max(steady) if steady else None,
        "peak_mb": max(t[MEMORY_COLUMN].max() for t in losses),
        "process_gpu_mb": max(process_mb) if all(process_mb) else None,
        "losses": losses[0][["loss", "L_r", "L_d", "L_ce"]].to_numpy().tolist(),
    }


def throughput(args: argparse.Namespace) -> None:
    config = yaml.safe_load(args.config.read_text())
    epochs = args.epochs or (2 if args.smoke else 3)
    n_timing = 8 if args.smoke else args.timing_graphs
    max_concurrent = 2 if args.smoke else args.max_concurrent
    cuda = torch.cuda.is_available() and args.device in ("auto", "cuda")
    gpu_mb = torch.cuda.get_device_properties(0).total_memory / 2**20 if cuda else None
    report = {**machine(), "epochs": epochs, "timing_graphs": n_timing, "runs": []}
    args.out.mkdir(parents=True, exist_ok=True)

    def save() -> None:
        (args.out / "throughput.json").write_text(json.dumps(report, indent=2))

    rates = {}
    for name in args.datasets:
        start = time.perf_counter()
        data, graphs = dataset_graphs(args, name, n_timing)
        full = dataset_settings(config, name)
        job_dir = args.out / name
        job_dir.mkdir(exist_ok=True)
        save_graphs(graphs, job_dir / "graphs.pt")
        overrides = {"seed": data["seed"], "epochs": epochs, **(SMOKE if args.smoke else {})}
        (job_dir / "settings.json").write_text(
            json.dumps({"settings": data["settings"], "overrides": overrides})
        )
        print(f"{name}: {len(graphs)} graphs in {time.perf_counter() - start:.1f} s", flush=True)
        # seconds of one full training per second of a timing epoch
        scale = full["augment"]["n_graphs"] / n_timing * full["train"]["epochs"]
        eager_losses = None
        for fast in (False, True):
            alone = run_jobs(job_dir, fast, 1, args.device, epochs, args.threads)
            job_mb = alone["process_gpu_mb"] or (alone["peak_mb"] + 500 if cuda else None)
            safe = jobs_per_gpu(gpu_mb, job_mb, GPU_RESERVE) if cuda else None
            n = max(1, min(safe or max_concurrent, max_concurrent))
            runs = [(1, alone)]
            if n > 1:
                runs.append((n, run_jobs(job_dir, fast, n, args.device, epochs, args.threads)))
            if not fast:
                eager_losses = alone["losses"]
            for concurrent, run in runs:
                epoch_s = run["steady_epoch_s"] or run["first_epoch_s"]
                training_s = epoch_s * scale + (run["first_epoch_s"] - epoch_s)
                row = {
                    "dataset": name,
                    "step": "fast" if fast else "eager",
                    "concurrent": concurrent,
                    "safe_n": safe,
                    "projected_training_s": training_s,
                    "trainings_per_hour": concurrent * 3600 / training_s,
                    **{k: v for k, v in run.items() if k != "losses"},
                }
                if fast:
                    row["max_rel_loss_diff_vs_eager"] = max(
                        abs(a - b) / max(abs(b), 1e-12)
                        for fa, ea in zip(run["losses"], eager_losses, strict=True)
                        for a, b in zip(fa, ea, strict=True)
                    )
                report["runs"].append(row)
                mode = "alone" if run is alone else "concurrent"
                work = full["augment"]["n_graphs"] * full["model"]["steps"]
                rates[name, row["step"], mode] = training_s / concurrent / work
                print(json.dumps(row), flush=True)
                save()
    report["paper_preset"] = paper_projection(config, rates, args.datasets)
    save()
    print(pd.DataFrame(report["runs"]).drop(columns=["losses"], errors="ignore").to_string())
    print(json.dumps(report["paper_preset"], indent=2))


def paper_projection(config: dict, rates: dict, measured: list[str]) -> dict:
    """Projected wall time (hours) of the preset's Table 1 dataset trainings (the paper
    preset's 20) for each step (eager, fast), run alone or concurrently: each dataset costs the
    measured wall seconds per (graph x recurrent step) of the measured dataset of its kind
    (Ground Truth folders: the measured GT dataset; the others: the last measured one, MB8's
    larger graphs) times its own graphs and steps; None where a rate was not measured."""
    gt = next((name for name in measured if name.startswith("GT")), measured[-1])
    table1 = [dataset_settings(config, name) for name in config["datasets"]]
    table1 = [settings for settings in table1 if settings["table1"]]
    out = {}
    for step, mode in sorted({(s, m) for _, s, m in rates}):
        total = 0.0
        for settings in table1:
            like = (
                gt if str(settings.get("folder", "")).startswith("Ground Truth") else measured[-1]
            )
            work = settings["augment"]["n_graphs"] * settings["model"]["steps"]
            total += rates.get((like, step, mode), float("nan")) * work
        wall_h = None if total != total else total / 3600  # nan: a rate is missing
        out[f"{step}, {mode}"] = {"trainings": len(table1), "wall_h": wall_h}
    return out


if __name__ == "__main__":
    main()
