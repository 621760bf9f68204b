"""On-disk layout of a dataset inside the workflow: a folder of FOV CSVs with an index.

A dataset folder holds one benchmark-format CSV per field of view (columns ``x, y, index`` in nm,
plus optional ``class`` / ``index_coarse``) and ``index.tsv`` mapping FOV numbers to file names.
Per-localization results (labels, squeezed coordinates) of all FOVs of a dataset are stored as one
long gzip CSV keyed by ``fov``, rows in the same order as the FOV's CSV.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from miro.data.readers import read_localizations
from miro.files import atomic_path

INDEX = "index.tsv"


def write_fov_dir(files: Mapping[int, Path | str], out_dir: Path | str) -> None:
    """Write ``index.tsv`` for FOV files already placed in ``out_dir``."""
    index = pd.DataFrame(
        {"fov": sorted(files), "file": [Path(files[k]).name for k in sorted(files)]}
    )
    with atomic_path(Path(out_dir) / INDEX) as tmp:
        index.to_csv(tmp, sep="\t", index=False)


def publish_dir(tmp_dir: Path, out_dir: Path) -> None:
    """Move a completely written temporary folder into place (no half-written outputs)."""
    if out_dir.exists():
        shutil.rmtree(out_dir)
    os.replace(tmp_dir, out_dir)


def fov_index(fov_dir: Path | str) -> dict[int, Path]:
    """FOV number -> CSV path of a dataset folder."""
    fov_dir = Path(fov_dir)
    path = fov_dir / INDEX
    if not path.is_file():
        raise FileNotFoundError(f"{path}: dataset index missing (was the folder made by 'obtain'?)")
    index = pd.read_csv(path, sep="\t")
    return {int(f): fov_dir / name for f, name in zip(index["fov"], index["file"], strict=True)}


def load_fovs(fov_dir: Path | str, fovs: Iterable[int] | None = None) -> dict[int, pd.DataFrame]:
    """Read (some of) the FOVs of a dataset folder, validated by :func:`read_localizations`."""
    index = fov_index(fov_dir)
    wanted = sorted(index) if fovs is None else list(fovs)
    missing = [f for f in wanted if f not in index]
    if missing:
        raise ValueError(f"{fov_dir}: FOVs {missing} are not in the dataset")
    return {f: read_localizations(index[f], fmt="benchmark") for f in wanted}


def write_per_fov(values: Mapping[int, np.ndarray], columns: list[str], path: Path | str) -> None:
    """Store per-localization arrays of several FOVs as one long table (fov + columns)."""
    frames = []
    for fov in sorted(values):
        arr = np.asarray(values[fov])
        arr = arr.reshape(len(arr), -1)
        frame = pd.DataFrame(arr, columns=columns)
        frame.insert(0, "fov", fov)
        frames.append(frame)
    with atomic_path(path) as tmp:
        pd.concat(frames, ignore_index=True).to_csv(tmp, index=False, compression="gzip")


def read_per_fov(path: Path | str, columns: list[str]) -> dict[int, np.ndarray]:
    """Inverse of :func:`write_per_fov`: FOV -> array of the given columns."""
    table = pd.read_csv(path, compression="gzip")
    absent = [c for c in ["fov", *columns] if c not in table.columns]
    if absent:
        raise ValueError(f"{path}: missing columns {absent}")
    key = columns[0] if len(columns) == 1 else columns
    return {int(fov): group[key].to_numpy() for fov, group in table.groupby("fov", sort=True)}


def ground_truth(frame: pd.DataFrame, column: str, where: str) -> np.ndarray:
    """Ground-truth labels of one FOV from ``column`` (``index``; ``index_coarse`` for the
    rings of multiscale data); ``where`` (file and FOV) names it when the column is missing."""
    if column not in frame.columns:
        raise ValueError(
            f"{where}: no ground-truth column {column!r} (columns: {list(frame.columns)})"
        )
    return frame[column].to_numpy()
