"""Learning curves of CPU training recipes (issue "Training that learns on a laptop").

For one structure family at the paper's simulation settings (Methods, "Simulated data":
C-shaped = 30-60 semicircles, rings = 60-70 rings, radius 250 nm, radial sd 50 nm, 6,400 nm
FOVs; 15 FOVs, 3 for training), it trains MIRO with one recipe and, after the epochs named by
``--eval``, squeezes the FOVs, tunes DBSCAN on the squeezed training FOVs (the workflow's Optuna
study) and scores the 12 held-out FOVs against DBSCAN tuned the same way on the raw training
FOVs. Every evaluation appends one row to ``--results`` (CSV): family, recipe, its settings,
epoch, optimizer steps, training CPU minutes so far (process time of the single-threaded
training, evaluation excluded: robust to other load on the machine), the mean ARI†, IoU
and JI_c of both methods, MIRO's gain and the one-sided Wilcoxon p of each. ``--seed`` sets the
simulated data, split and tuning, ``--train-seed`` (default: ``--seed``) the augmentation and
training alone: runs of one recipe over several training seeds measure its spread on one data set.
``--set fast=1`` trains with the compiled step (`TrainConfig.fast`). ``--simulate KEY=VALUE``
passes a JSON value to the family's simulator (e.g. ``min_separation=600``: structures 600 nm apart
instead of twice their radius); ``score`` simulates the same data again.
``--crop K`` trains on the K x K tiles of each synthetic FOV instead of the whole FOV (K² times
the optimizer steps per epoch at about the same cost). ``--device cuda`` trains on a GPU (the
paper recipe's budget, docs/gpu-validation.md); ``train_minutes`` is then the host's CPU time
and ``wall_minutes`` the training's wall time.

    python benchmarks/bench_learning_curve.py run --family c_shaped --recipe onecycle-3e-3 \\
        --set lr=3e-3 schedule=onecycle epochs=6 --graphs 300 --eval 2 4 6
    python benchmarks/bench_learning_curve.py run ... --train-only --work DIR  # no evaluation
    python benchmarks/bench_learning_curve.py score DIR/<family>-<recipe> ... [--ensemble NAME]
    python benchmarks/bench_learning_curve.py report   # -> benchmarks/learning_curve.md + .png

The paper's gains (resources/paper_table1.csv) are the target: the issue asks for 80 % of the
ARI† gain with p < 0.01 on ARI†, IoU and JI_c, each model within 10 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch_geometric.data import Data

from miro.core.checkpoint import load_checkpoint
from miro.core.graph import build_graph
from miro.core.squeeze import squeeze_many
from miro.core.training import TrainConfig, fov_extent, train
from miro.data.augment import PointCloud, augment_graphs, augment_point_clouds, settings_from_data
from miro.data.simulate import simulate_dataset
from miro.data.split import split_fovs

HERE = Path(__file__).parent
RESULTS = HERE / "learning_curve.csv"
METRICS = ("ARI_dagger", "IoU", "JI_c")
PAPER_ROWS = {"c_shaped": "C-shaped", "rings": "Rings"}
#: The radius of the first recipes measured (`--set radius=R` overrides it; the default run's
#: C-shaped recipe uses 0.06), and the workflow's DBSCAN search space.
RADIUS = {"c_shaped": 0.1, "rings": 0.1}
#: The recipes the plot draws in colour (each run of them, every seed): the default run's and
#: the budget that passes 80 % of the paper's gain on every data seed measured.
HIGHLIGHT = {
    "c_shaped": {
        "spaced-s15-r006-w64-1200g3": "default run: width 64, 1,200 graphs x 3 epochs",
        "spaced-s15-r006-w64-1200g": "width 64, 1,200 graphs x 5 epochs",
    },
    "rings": {"spaced-cpu-recipe": "default run: width 32, 300 graphs x 6 epochs"},
}
SEARCH = {"eps_range": (2.0, 200.0), "min_samples_range": (2, 60), "n_trials": 40}


def _data(family: str, seed: int, simulate: dict | None = None, n_fovs: int = 15, n_train: int = 3):
    fovs = simulate_dataset(family, n_fovs, seed, **(simulate or {}))
    split = split_fovs(range(n_fovs), n_train=n_train, seed=seed)
    return fovs, split


def _pairs(option: str, items: list[str]) -> dict[str, str]:
    bad = [kv for kv in items if "=" not in kv]
    if bad:
        raise SystemExit(f"{option} {bad[0]}: expected KEY=VALUE")
    return dict(kv.split("=", 1) for kv in items)


def _flag(key: str, text: str) -> bool:
    if text.lower() not in ("0", "1", "false", "true"):
        raise SystemExit(f"--set {key}={text}: expected 0, 1, false or true")
    return text.lower() in ("1", "true")


def _json_value(key: str, text: str):
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise SystemExit(f"--simulate {key}={text}: not a JSON value ({err})") from err


def _xy(fov: pd.DataFrame) -> np.ndarray:
    return fov[["x", "y"]].to_numpy(float)


def _truth(fov: pd.DataFrame) -> np.ndarray:
    return fov["index"].to_numpy(np.int64)


def _tuned_scores(coords: list[np.ndarray], fovs, split, seed: int) -> pd.DataFrame:
    """Tune DBSCAN on ``coords`` of the training FOVs, score the test FOVs (one row each)."""
    # imported here: `run --train-only` on a GPU machine needs neither optuna nor scikit-learn
    from miro.evaluation.dbscan import dbscan_labels
    from miro.evaluation.metrics import evaluate_fov
    from miro.evaluation.tuning import optimise_dbscan

    tuning = [(coords[i], _truth(fovs[i])) for i in split["train"]]
    best, _ = optimise_dbscan(tuning, seed=seed, **SEARCH)
    rows = []
    for i in split["test"]:
        labels = dbscan_labels(coords[i], best["eps"], best["min_samples"])
        scores = evaluate_fov(_xy(fovs[i]), _truth(fovs[i]), {"m": labels}, METRICS)
        rows.append({"fov": i, **scores.iloc[0][list(METRICS)].to_dict()})
    return pd.DataFrame(rows)


def run(args: argparse.Namespace) -> None:
    torch.set_num_threads(args.threads)
    simulate = {k: _json_value(k, v) for k, v in _pairs("--simulate", args.simulate).items()}
    fovs, split = _data(args.family, args.seed, simulate)
    train_fovs = [fovs[i] for i in split["train"]]
    overrides = _pairs("--set", args.set)
    radius = float(overrides.pop("radius", RADIUS[args.family]))
    cfg = TrainConfig(
        radius=radius,
        fov_nm=fov_extent([_xy(f) for f in train_fovs]),
        width=int(overrides.pop("width", 64)),
        steps=int(overrides.pop("steps", 10)),
        alpha=float(overrides.pop("alpha", 10.0)),
        lr=float(overrides.pop("lr", 1e-3)),
        schedule=overrides.pop("schedule", "constant"),
        warmup=float(overrides.pop("warmup", 0.3)),
        batch_size=int(overrides.pop("batch_size", 4)),
        epochs=int(overrides.pop("epochs", max(args.eval, default=0))),
        seed=args.train_seed,
        device=args.device,
        fast=_flag("fast", overrides.pop("fast", "0")),
    )
    if overrides:
        raise SystemExit(f"unknown settings {sorted(overrides)}")
    if cfg.epochs < 1:
        raise SystemExit("--train-only needs --set epochs=N")
    start = time.perf_counter()
    settings = settings_from_data(train_fovs)
    if args.crop == 1:
        graphs = augment_graphs(train_fovs, args.graphs, settings, args.train_seed, radius)
    else:
        clouds = augment_point_clouds(train_fovs, args.graphs, settings, args.train_seed)
        graphs = [g for cloud in clouds for g in _crops(cloud, args.crop, radius)]
    augment_s = time.perf_counter() - start
    nodes = float(np.mean([g.num_nodes for g in graphs]))
    print(f"{len(graphs)} graphs of {nodes:.0f} nodes in {augment_s:.0f} s; {cfg}", flush=True)
    meta = {
        "family": args.family,
        "recipe": args.recipe,
        "settings": json.dumps(
            {k: getattr(cfg, k) for k in ("width", "steps", "lr", "schedule", "batch_size")}
            | ({"radius": radius} if radius != RADIUS[args.family] else {})
            | ({"alpha": cfg.alpha} if cfg.alpha != 10.0 else {})
            | {"graphs": args.graphs, "epochs": cfg.epochs, "threads": args.threads}
            | ({"crop": args.crop} if args.crop != 1 else {})
            | ({"fast": True} if cfg.fast else {})
            | ({"device": args.device} if args.device != "cpu" else {})
            | ({"seed": args.seed} if args.seed else {})
            | ({"simulate": simulate} if simulate else {})
            | ({"train_seed": args.train_seed} if args.train_seed != args.seed else {})
        ),
        "nodes_per_graph": round(nodes),
    }
    baseline = None if args.train_only else _baseline(fovs, split, args.seed)
    out_dir = Path(args.work) / f"{args.family}-{args.recipe}"
    shutil.rmtree(out_dir, ignore_errors=True)  # a fresh run, never a resumed one
    cpu = {"train": 0.0, "since": time.process_time()}

    def progress(epoch: int) -> dict:
        return meta | {
            "epoch": epoch,
            "optimizer_steps": epoch * -(-len(graphs) // cfg.batch_size),
            "train_minutes": round(cpu["train"] / 60, 2),
            "wall_minutes": round(_training_seconds(out_dir) / 60, 2),
            "augment_minutes": round(augment_s / 60, 2),
        }

    def evaluate(epoch: int, model: torch.nn.Module) -> None:
        cpu["train"] += time.process_time() - cpu["since"]
        if baseline is not None and epoch in args.eval:
            model.eval()
            _append(
                progress(epoch), [(model, radius)], fovs, split, args.seed, baseline, args.results
            )
            model.train()
        cpu["since"] = time.process_time()

    train(graphs, cfg, out_dir, on_epoch=evaluate)
    if args.train_only:
        (out_dir / "run.json").write_text(json.dumps(progress(cfg.epochs) | {"seed": args.seed}))
        print(f"trained {out_dir / 'model.pt'}; score it with: score {out_dir}")


def score(args: argparse.Namespace) -> None:
    """Score the checkpoints of ``run --train-only`` (e.g. trained on a GPU) as ``run`` would;
    with ``--ensemble NAME``, the mean of their squeezed positions as one row (its minutes and
    steps the sum of its members')."""
    runs = []
    for folder in map(Path, args.runs):
        if not (folder / "run.json").is_file() or not (folder / "model.pt").is_file():
            raise SystemExit(f"{folder}: no run.json and model.pt (a folder of `run --train-only`)")
        try:
            row = json.loads((folder / "run.json").read_text())
            missing = {"family", "recipe", "settings", "seed", "epoch"} - set(row)
        except (json.JSONDecodeError, TypeError) as err:
            raise SystemExit(f"{folder / 'run.json'}: not a run record ({err})") from err
        if missing:
            raise SystemExit(f"{folder / 'run.json'}: not a run record (no {sorted(missing)})")
        runs.append((row, [folder / "model.pt"]))
    if args.ensemble:
        data = {(row["family"], row["seed"]) for row, _ in runs}
        if len(data) > 1:
            raise SystemExit(f"an ensemble needs one family and data seed, got {sorted(data)}")
        row = runs[0][0] | {
            "recipe": args.ensemble,
            "settings": json.dumps(
                {k: v for k, v in json.loads(runs[0][0]["settings"]).items() if k != "train_seed"}
                | {"ensemble": len(runs)}
            ),
        }
        for key in ("optimizer_steps", "train_minutes", "wall_minutes", "augment_minutes"):
            row[key] = round(sum(r[key] for r, _ in runs), 2)
        runs = [(row, [path for _, paths in runs for path in paths])]
    for row, paths in runs:
        row = dict(row)
        seed = row.pop("seed")
        models = [(c.model.eval(), c.radius) for c in map(load_checkpoint, paths)]
        fovs, split = _data(row["family"], seed, json.loads(row["settings"]).get("simulate"))
        baseline = _baseline(fovs, split, seed)
        _append(row, models, fovs, split, seed, baseline, args.results)


def _baseline(fovs, split, seed: int) -> pd.DataFrame:
    return _tuned_scores([_xy(f) for f in fovs], fovs, split, seed)


def _append(row: dict, models: list, fovs, split, seed: int, baseline, results) -> None:
    """Squeeze every FOV by each (model, radius) of ``models`` and average the positions; score
    MIRO + DBSCAN against ``baseline``; append ``row`` + scores."""
    from miro.evaluation.stats import paired_test

    coords = [_xy(f) for f in fovs]
    with torch.no_grad():
        runs = [[r.squeezed_nm for r in squeeze_many(m, coords, radius)] for m, radius in models]
    squeezed = [np.mean(fov, axis=0) for fov in zip(*runs, strict=True)]
    miro = _tuned_scores(squeezed, fovs, split, seed)
    row = dict(row)
    for m in METRICS:
        row[f"MIRO_{m}"] = round(miro[m].mean(), 4)
        row[f"DBSCAN_{m}"] = round(baseline[m].mean(), 4)
        row[f"gain_{m}"] = round(miro[m].mean() - baseline[m].mean(), 4)
        row[f"p_{m}"] = paired_test(miro[m].to_numpy(), baseline[m].to_numpy(), True)["p"]
    print(json.dumps(row), flush=True)
    header = not Path(results).exists()
    pd.DataFrame([row]).to_csv(results, mode="a", header=header, index=False)


def _crops(cloud: PointCloud, k: int, radius: float) -> list[Data]:
    """The graphs of the k x k tiles of one synthetic FOV that hold a structure (same normalised
    scale as the whole FOV: a tile is 1/k of its side, with about 1/k² of its nodes)."""
    tile = np.minimum((cloud.positions * k).astype(int), k - 1)
    graphs = []
    for i, j in np.ndindex(k, k):
        keep = (tile[:, 0] == i) & (tile[:, 1] == j)
        if (cloud.labels[keep] > 0).sum() > 1:
            graphs.append(build_graph(cloud.positions[keep], radius, labels=cloud.labels[keep]))
    return graphs


def _training_seconds(out_dir: Path) -> float:
    return float(pd.read_csv(out_dir / "losses.csv")["seconds"].sum())


def report(args: argparse.Namespace) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = pd.read_csv(args.results)
    paper = pd.read_csv(HERE.parent / "resources" / "paper_table1.csv")
    lines = [
        "# Learning curves of CPU training recipes",
        "",
        "`python benchmarks/bench_learning_curve.py run ...` rows (see the script's docstring):",
        "12 held-out FOVs per family, DBSCAN and MIRO + DBSCAN both tuned by the workflow's",
        "Optuna study on the 3 training FOVs; minutes are the single-threaded training's CPU time.",
        "A row whose epoch is below the recipe's `epochs` is that run mid-schedule (one-cycle:",
        "the learning rate not yet annealed); runs stopped early have no final row.",
        "Recipes named `spaced-...` ran with the augmentation that keeps the training FOVs'",
        "spacing (no two synthetic structures closer than the closest two of a training FOV,",
        "`docs/reference.md#augmentation`); the others ran before it, with independent uniform",
        "centres (the reference's placement). Rows named `...-seedN` ran with `--seed N` (other",
        "simulated data, split and training), rows named `...-trainN` with `--train-seed N`",
        "(seed 0's data, split and tuning; another augmentation and training); the others with",
        "seed 0. Rows named `...-cropK` trained on the K x K tiles of each synthetic FOV",
        "(`--crop K`). Rows named `...-ensemble...` score the mean squeezed positions of the",
        "models of the training seeds the name lists (`ensemble12`: seeds 1 and 2,",
        "`ensemble-1-11`: 1 and 11; `run --train-only`, then `score --ensemble`), minutes and",
        "steps summed. Rows named `...-sepN` ran on FOVs whose structures are at least N nm",
        "apart (`--simulate min_separation=N`; the simulator's default is twice the radius,",
        "500 nm).",
        "",
    ]
    for family, group in rows.groupby("family", sort=False):
        target = _paper_gain(paper, PAPER_ROWS[family])
        lines.append(f"## {PAPER_ROWS[family]} (paper ARI† gain {target:+.3f})")
        lines.append("")
        cols = ["recipe", "epoch", "train_minutes", "optimizer_steps"]
        table = group[cols].copy()
        for m in METRICS:
            table[f"{m} MIRO / DBSCAN"] = (
                group[f"MIRO_{m}"].map("{:.3f}".format)
                + " / "
                + group[f"DBSCAN_{m}"].map("{:.3f}".format)
            )
            table[f"p {m}"] = group[f"p_{m}"].map("{:.1e}".format)
        table["% paper ARI† gain"] = (100 * group["gain_ARI_dagger"] / target).round(0)
        lines += [table.to_markdown(index=False), ""]
        settings = group.drop_duplicates("recipe")[["recipe", "settings"]]
        lines += [settings.to_markdown(index=False), ""]
    lines += _spread(rows, paper)
    Path(args.markdown).write_text("\n".join(lines))
    fig = _plot(plt, rows, paper)
    fig.savefig(Path(args.markdown).with_suffix(".png"), dpi=120, bbox_inches="tight")
    print(f"wrote {args.markdown}")


def _base_recipe(recipe: pd.Series) -> pd.Series:
    """A recipe's name without its ``-seedN`` / ``-trainN`` suffixes: one name per recipe."""
    return recipe.str.replace(r"(-(seed|train)\d+)+$", "", regex=True)


def _plot(plt, rows: pd.DataFrame, paper: pd.DataFrame):
    """ARI† gain against training CPU minutes: the recipes of `HIGHLIGHT` in colour, every run
    of them (all seeds) drawn; every other recipe in grey."""
    fig, axes = plt.subplots(1, rows["family"].nunique(), figsize=(11, 4.2), squeeze=False)
    for ax, (family, group) in zip(axes[0], rows.groupby("family", sort=False), strict=True):
        chosen = HIGHLIGHT.get(family, {})
        base = _base_recipe(group["recipe"])
        for _, curve in group[~base.isin(chosen)].groupby("recipe", sort=False):
            ax.plot(curve["train_minutes"], curve["gain_ARI_dagger"], ".-", c="0.75", lw=0.8)
        if ax.lines:
            ax.lines[0].set_label("other recipes (learning_curve.md)")
        for j, (name, label) in enumerate(chosen.items()):
            colour = plt.get_cmap("tab10").colors[j]
            runs = group[base == name].groupby("recipe", sort=False)
            for k, (_, curve) in enumerate(runs):
                ax.plot(curve["train_minutes"], curve["gain_ARI_dagger"], "o-", c=colour)
                if k == 0:
                    ax.lines[-1].set_label(f"{label} ({len(runs)} runs)")
        target = _paper_gain(paper, PAPER_ROWS[family])
        ax.axhline(target, ls="--", c="k", label="paper gain")
        ax.axhline(0.8 * target, ls=":", c="k", label="80 % of it")
        ax.axhline(0, c="grey", lw=0.5)
        ax.set(title=PAPER_ROWS[family], xlabel="training CPU minutes", ylabel="ARI† gain")
        ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.15))
    return fig


def _spread(rows: pd.DataFrame, paper: pd.DataFrame) -> list[str]:
    """The final rows of every recipe run on more than one seed: the spread of its gains."""
    settings = rows["settings"].map(json.loads)
    final = rows[rows["epoch"] == settings.map(lambda s: s["epochs"])].copy()
    settings = final["settings"].map(json.loads)
    final["data_seed"] = settings.map(lambda s: s.get("seed", 0))
    final["train_seed"] = settings.map(lambda s: s.get("train_seed", s.get("seed", 0)))
    final["recipe"] = _base_recipe(final["recipe"])
    final["key"] = settings.map(
        lambda s: json.dumps({k: v for k, v in s.items() if k not in ("seed", "train_seed")})
    )
    out = []
    for (family, recipe, _), runs in final.groupby(["family", "recipe", "key"], sort=False):
        if len(runs) < 2:
            continue
        gain = 100 * runs["gain_ARI_dagger"] / _paper_gain(paper, PAPER_ROWS[family])
        p = runs[[f"p_{m}" for m in METRICS]].to_numpy().max()
        out.append(
            {
                "family": PAPER_ROWS[family],
                "recipe": recipe,
                "runs": len(runs),
                "data seeds": " ".join(map(str, sorted(set(runs["data_seed"])))),
                "training seeds": " ".join(map(str, sorted(set(runs["train_seed"])))),
                "% paper ARI† gain, each": " ".join(f"{g:.0f}" for g in gain),
                "mean": round(gain.mean()),
                "seed 0 data: mean": round(gain[runs["data_seed"].to_numpy() == 0].mean()),
                "largest p": f"{p:.1e}",
            }
        )
    if not out:
        return []
    return [
        "## Spread over seeds",
        "",
        "Recipes run more than once (final rows; `--seed` draws other data, `--train-seed`",
        "another augmentation and training of seed 0's data):",
        "",
        pd.DataFrame(out).to_markdown(index=False),
        "",
    ]


def _paper_gain(paper: pd.DataFrame, dataset: str) -> float:
    row = paper[paper["dataset"] == dataset].set_index("method")["ARI_dagger"]
    return float(row["MIRO"] - row["DBSCAN"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run")
    r.add_argument("--family", choices=sorted(RADIUS), required=True)
    r.add_argument("--recipe", required=True)
    r.add_argument("--set", nargs="*", default=[], help="TrainConfig key=value")
    r.add_argument("--graphs", type=int, default=300, help="synthetic FOVs per epoch")
    r.add_argument("--crop", type=int, default=1, help="train on the k x k tiles of each FOV")
    r.add_argument("--eval", type=int, nargs="+", default=[], help="epochs to evaluate")
    r.add_argument("--train-only", action="store_true", help="no evaluation: for `score`")
    r.add_argument("--threads", type=int, default=1)
    r.add_argument("--device", default="cpu", help="training device (cuda: use wall_minutes)")
    r.add_argument("--seed", type=int, default=0, help="simulated data, split and tuning")
    r.add_argument("--simulate", nargs="*", default=[], help="simulator key=JSON value")
    r.add_argument("--train-seed", type=int, help="augmentation and training (default: --seed)")
    r.add_argument("--work", default="/tmp/learning_curve")
    r.add_argument("--results", default=str(RESULTS))
    r.set_defaults(func=run)
    c = sub.add_parser("score")
    c.add_argument("runs", nargs="+", help="folders of `run --train-only`")
    c.add_argument("--ensemble", metavar="NAME", help="score the runs as one averaged ensemble")
    c.add_argument("--results", default=str(RESULTS))
    c.set_defaults(func=score)
    p = sub.add_parser("report")
    p.add_argument("--results", default=str(RESULTS))
    p.add_argument("--markdown", default=str(HERE / "learning_curve.md"))
    p.set_defaults(func=report)
    args = parser.parse_args()
    if args.command == "run" and args.train_seed is None:
        args.train_seed = args.seed
    if args.command == "run" and not (args.eval or args.train_only):
        parser.error("run needs --eval EPOCH... or --train-only")
    args.func(args)


if __name__ == "__main__":
    main()
