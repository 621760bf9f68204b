"""How crowded the synthetic training FOVs are, against the FOVs they are drawn from.

For one simulated family at the paper's settings (15 FOVs, 3 for training, the learning-curve
benchmark's data), it compares the simulated FOVs with synthetic FOVs drawn from their 3
training FOVs by ``miro.data.augment`` with the data-driven settings, once with the placement
that keeps the training FOVs' spacing (``settings_from_data``) and once with independent
uniform centres (``min_separation`` 0, the reference's placement). Per structure: whether a
point of another structure lies within ``--touch`` nm of it; per FOV: the nearest-neighbour
distance between structure centroids. Synthetic FOVs are in normalised units and are scaled by
the training FOVs' mean extent.

    python benchmarks/bench_augment_spacing.py --family c_shaped --graphs 40
"""

from __future__ import annotations

import argparse
from dataclasses import replace

import numpy as np
from scipy.spatial import cKDTree

from miro.core.training import fov_extent
from miro.data.augment import augment_point_clouds, settings_from_data
from miro.data.simulate import simulate_dataset
from miro.data.split import split_fovs


def crowding(xy: np.ndarray, labels: np.ndarray, touch: float) -> tuple[np.ndarray, np.ndarray]:
    """Per structure: touches another (bool); per structure: centroid nearest-neighbour distance."""
    ids = np.unique(labels[labels > 0])
    touching, centroids = [], []
    for k in ids:
        own, others = labels == k, (labels > 0) & (labels != k)
        touching.append(cKDTree(xy[others]).query(xy[own])[0].min() < touch)
        centroids.append(xy[own].mean(axis=0))
    centroids = np.array(centroids)
    return np.array(touching), cKDTree(centroids).query(centroids, 2)[0][:, 1]


def summary(name: str, fovs: list[tuple[np.ndarray, np.ndarray]], touch: float) -> None:
    parts = [crowding(xy, labels, touch) for xy, labels in fovs]
    touching = np.concatenate([t for t, _ in parts])
    nn = np.concatenate([d for _, d in parts])
    p1, p5, p50 = np.percentile(nn, [1, 5, 50])
    print(
        f"{name:<28} structures {touching.size:5d}  touching (< {touch:g} nm) "
        f"{100 * touching.mean():5.1f} %  centroid NN p1 / p5 / p50 "
        f"{p1:.0f} / {p5:.0f} / {p50:.0f} nm"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--family", default="c_shaped", choices=["c_shaped", "rings"])
    parser.add_argument("--graphs", type=int, default=40)
    parser.add_argument("--touch", type=float, default=50.0, help="nm")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    fovs = simulate_dataset(args.family, 15, args.seed)
    split = split_fovs(range(15), n_train=3, seed=args.seed)
    train = [fovs[i] for i in split["train"]]
    scale = fov_extent([f[["x", "y"]].to_numpy(float) for f in train])
    spaced = settings_from_data(train)
    print(
        f"{args.family}: min_separation {spaced.min_separation:.4f} "
        f"({spaced.min_separation * scale:.0f} nm)"
    )
    summary(
        "simulated FOVs",
        [(f[["x", "y"]].to_numpy(), f["index"].to_numpy()) for f in fovs],
        args.touch,
    )
    for name, settings in [
        ("synthetic, spacing kept", spaced),
        ("synthetic, uniform centres", replace(spaced, min_separation=0.0)),
    ]:
        clouds = augment_point_clouds(train, args.graphs, settings, args.seed)
        summary(name, [(c.positions * scale, c.labels) for c in clouds], args.touch)


if __name__ == "__main__":
    main()
