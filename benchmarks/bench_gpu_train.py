"""Train one benchmark dataset of a preset exactly as the workflow's augment and train rules do,
timing each part: for the GPU validation of the paper preset (issue: Workflow, "On a GPU").
``--method magik`` trains the MAGIK-S baseline (`miro.studies.magik`, paper-size settings) on the
same
graphs instead, as rule magik_train does, for the training-time comparison of Supp. Table 6.

Reads the FOVs straight from a benchmark folder (as rule ``obtain`` does), builds the paper's
augmented graphs in a process pool (``augment_graphs`` is independent of how it is chunked),
trains with `miro.core.training.config_from_settings` (the train rule's settings) and writes
``model.pt``, ``losses.csv`` and ``timing.json`` to ``--out``. The checkpoint drops into
``results/<dataset>/model/model.pt`` of a workflow run of the same preset, which then does the
rest (transform, DBSCAN, metrics, Table 1) on any machine:

    python benchmarks/bench_gpu_train.py --config presets/paper.yaml --dataset GT8 \\
        --benchmark-dir ../shared/benchmark --out results-gpu --n-jobs 16
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import time
from pathlib import Path

import torch
import yaml

from miro.config import dataset_settings
from miro.core.training import config_from_settings, train
from miro.data.augment import augment_graphs, settings_for_dataset
from miro.data.benchmark import list_fovs
from miro.data.readers import read_localizations
from miro.studies.magik import MagikConfig, save_magik, train_magik


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=Path("presets/paper.yaml"))
    parser.add_argument("--dataset", default="GT8")
    parser.add_argument("--benchmark-dir", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--n-jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--epochs", type=int, help="override (default: the preset's)")
    parser.add_argument("--n-graphs", type=int, help="override (default: the preset's)")
    parser.add_argument("--seed", type=int, help="default: the preset's seed")
    parser.add_argument("--method", choices=("miro", "magik"), default="miro")
    args = parser.parse_args()

    config = yaml.safe_load(args.config.read_text())
    settings = dataset_settings(config, args.dataset)
    if settings["source"] != "benchmark":
        raise SystemExit(f"{args.dataset}: not a benchmark dataset of {args.config}")
    seed = config.get("seed", 0) if args.seed is None else args.seed
    n_graphs = args.n_graphs or settings["augment"]["n_graphs"]
    files = list_fovs(args.benchmark_dir / settings["folder"])
    fovs = [read_localizations(files[i], fmt="benchmark") for i in settings["train_fovs"]]
    timing: dict = {"device": torch.cuda.get_device_name() if torch.cuda.is_available() else "cpu"}
    timing |= {"torch": torch.__version__, "python": platform.python_version()}

    start = time.perf_counter()
    graphs = augment_graphs(
        fovs,
        n=n_graphs,
        settings=settings_for_dataset(settings, fovs),
        seed=seed,
        radius=settings["model"]["radius"],
        n_jobs=args.n_jobs,
    )
    timing["augment_s"] = time.perf_counter() - start
    timing["n_graphs"] = len(graphs)
    timing["mean_nodes"] = sum(g.num_nodes for g in graphs) / len(graphs)
    print(f"augmented {len(graphs)} graphs in {timing['augment_s']:.1f} s", flush=True)

    args.out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    if args.method == "magik":
        cfg = MagikConfig(seed=seed, **({"epochs": args.epochs} if args.epochs else {}))
        print(cfg, flush=True)
        model, history = train_magik(graphs, cfg, log=lambda line: print(line, flush=True))
        radius, n = graphs[0].radius, len(graphs)
        save_magik(args.out / "magik.pt", model, cfg, radius=radius, history=history, n_graphs=n)
        epochs = cfg.epochs
    else:
        overrides = {"seed": seed, "device": "auto"}
        if args.epochs:
            overrides["epochs"] = args.epochs
        xy = [f[["x", "y"]].to_numpy() for f in fovs]
        cfg = config_from_settings(settings, graphs, xy, **overrides)
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


if __name__ == "__main__":
    main()
