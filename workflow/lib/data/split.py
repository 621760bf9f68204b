"""Train/test split of a dataset's fields of view (FOVs).

The paper trains on the clusters of three FOVs and tests on the other 47 of each benchmark folder
(Methods, "MIRO training and augmentations"); the three FOVs it used are listed per folder in
``resources/benchmark_settings.csv`` (column ``train_fovs``). Other datasets get a seeded random
split. The split is stored as a small JSON file that later rules read.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from miro.files import atomic_path

SPLITS = ("train", "test")


def split_fovs(
    fov_numbers: Iterable[int],
    *,
    n_train: int = 3,
    train_fovs: Sequence[int] | None = None,
    seed: int = 0,
) -> dict[str, list[int]]:
    """Split FOV numbers into sorted ``train`` and ``test`` lists.

    ``train_fovs`` (e.g. the paper's, from the benchmark settings) fixes the training FOVs;
    otherwise ``n_train`` of them are drawn with ``numpy.random.default_rng(seed)``, so the same
    seed and FOVs give the same split. At least one FOV is always left for testing.
    """
    fovs = [int(n) for n in fov_numbers]
    if len(set(fovs)) != len(fovs):
        raise ValueError(f"FOV numbers must be distinct, got {sorted(fovs)}")
    fovs.sort()
    if train_fovs is None:
        if not 1 <= n_train < len(fovs):
            raise ValueError(
                f"n_train must be between 1 and the number of FOVs - 1 = {len(fovs) - 1}, "
                f"got {n_train}"
            )
        train = np.random.default_rng(seed).choice(fovs, size=n_train, replace=False).tolist()
    else:
        train = [int(n) for n in train_fovs]
        unknown = sorted(set(train) - set(fovs))
        if unknown:
            raise ValueError(f"training FOVs {unknown} are not among the FOVs {fovs}")
        if len(set(train)) != len(train) or not 1 <= len(train) < len(fovs):
            raise ValueError(
                f"training FOVs {list(train_fovs)} must be distinct, at least one, and leave at "
                f"least one of the {len(fovs)} FOVs for testing"
            )
    return {"train": sorted(train), "test": sorted(set(fovs) - set(train))}


def write_split(split: dict[str, list[int]], path: str | os.PathLike) -> Path:
    """Write a split as JSON ``{"train": [...], "test": [...]}``, atomically; returns the path."""
    _check_split(split, path)
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps({k: [int(n) for n in split[k]] for k in SPLITS}) + "\n")
    return Path(path)


def read_split(path: str | os.PathLike) -> dict[str, list[int]]:
    """Read a split written by :func:`write_split`, checking it."""
    try:
        split = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise ValueError(f"{path}: cannot read the FOV split ({err})") from err
    _check_split(split, path)
    return {k: split[k] for k in SPLITS}


def example_fov(path: str | os.PathLike, wanted: int | None) -> int:
    """The test FOV a figure shows: ``wanted`` (config ``example_fov``, checked before any job
    to be a test FOV of every figure's dataset), else the first test FOV of the split."""
    test = read_split(path)["test"]
    if wanted is None:
        return test[0]
    if wanted not in test:
        raise ValueError(f"{path}: example_fov {wanted} is not a test FOV {test}")
    return wanted


def _check_split(split: object, path: str | os.PathLike) -> None:
    """Both keys present, non-empty lists of distinct integers, no FOV in both."""
    if not isinstance(split, dict) or set(SPLITS) - set(split):
        raise ValueError(f"{path}: a FOV split needs the keys {SPLITS}")
    for key in SPLITS:
        fovs = split[key]
        if (
            not isinstance(fovs, list | tuple)
            or not fovs
            or not all(isinstance(n, int | np.integer) and not isinstance(n, bool) for n in fovs)
            or len(set(fovs)) != len(fovs)
        ):
            raise ValueError(f"{path}: {key!r} must be a non-empty list of distinct integers")
    both = sorted(set(split["train"]) & set(split["test"]))
    if both:
        raise ValueError(f"{path}: FOVs {both} are in both train and test")
