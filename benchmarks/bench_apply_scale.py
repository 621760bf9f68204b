"""Does `miro apply` squeeze a file smaller than the training FOVs at the right scale?

The authors' Scenario 8 weights were trained on 2 x 2 μm² FOVs (training scale 2000 nm). The
central 1 x 1 μm² of each of the folder's 47 test FOVs is squeezed three ways: as part of its
whole FOV (the training situation, the reference), alone at the training scale (what
`miro.applications.apply.squeeze_large` does: padded to one 2000 nm window) and alone
normalised over its own extent (what it did before issue #16: stretched, so the connectivity
radius in nm is halved). Each is clustered with the authors' MIRO-DBSCAN parameters; printed: the
mean ARI against the ground truth of the crop and the mean of the per-FOV median distance (nm) of
the squeezed positions from the reference.

    .venv/bin/python benchmarks/bench_apply_scale.py [--folder "Ground Truth - Scenario 8"] \\
        [--benchmark ../shared/benchmark] [--weights ../shared/weights]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.metrics import adjusted_rand_score

from miro.applications.apply import squeeze_large
from miro.applications.published import load_published
from miro.config import benchmark_row
from miro.core.squeeze import squeeze_many
from miro.data.benchmark import FOV_NM, list_fovs
from miro.data.published_files import checkpoint_path, read_authors_dbscan
from miro.evaluation.dbscan import dbscan_labels


def main() -> None:
    cli = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    cli.add_argument("--folder", default="Ground Truth - Scenario 8")
    cli.add_argument("--benchmark", type=Path, default=Path("../shared/benchmark"))
    cli.add_argument("--weights", type=Path, default=Path("../shared/weights"))
    args = cli.parse_args()
    torch.manual_seed(0)
    settings = benchmark_row(args.folder)
    train = {int(n) for n in str(settings["train_fovs"]).split()}
    files = {n: p for n, p in list_fovs(args.benchmark / args.folder).items() if n not in train}
    model = load_published(
        args.weights / checkpoint_path(args.folder), steps=int(settings["recurrent_steps"])
    )
    radius = float(settings["connectivity_radius_normalized"])
    params = read_authors_dbscan(args.weights / "benchmark" / "metadata.json", args.folder)
    rows = []
    for path in files.values():
        fov = pd.read_csv(path)
        xy, truth = fov[["x", "y"]].to_numpy(float), fov["index"].to_numpy()
        low = xy.min(axis=0) + np.ptp(xy, axis=0) / 4
        crop = np.all((xy >= low) & (xy <= low + np.ptp(xy, axis=0) / 2), axis=1)
        small = xy[crop]
        reference = squeeze_many(model, [xy], radius, device="cpu")[0].squeezed_nm[crop]
        ways = {
            "part of the whole FOV (reference)": reference,
            "alone, training scale (now)": squeeze_large(
                model, small, radius, window_nm=FOV_NM, overlap_nm=radius * FOV_NM, device="cpu"
            ).squeezed_nm,
            "alone, own extent (before)": squeeze_many(model, [small], radius, device="cpu")[
                0
            ].squeezed_nm,
        }
        for way, squeezed in ways.items():
            rows.append(
                {
                    "crop squeezed": way,
                    "ARI": adjusted_rand_score(truth[crop], dbscan_labels(squeezed, **params)),
                    "median shift from reference (nm)": float(
                        np.median(np.linalg.norm(squeezed - reference, axis=1))
                    ),
                    "localizations": int(crop.sum()),
                }
            )
    table = pd.DataFrame(rows).groupby("crop squeezed", sort=False).mean()
    print(
        f"{args.folder}: {len(files)} test FOVs, central crops of on average "
        f"{table['localizations'].iloc[0]:.0f} localizations; MIRO + DBSCAN {params}\n"
    )
    print(table.drop(columns="localizations").round(3).to_markdown())


if __name__ == "__main__":
    main()
