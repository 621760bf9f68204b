"""On-disk layout of a dataset inside the workflow: a folder of FOV CSVs with an index.

A dataset folder holds one benchmark-format CSV per field of view (columns ``x, y, index`` in nm,
plus optional ``class`` / ``index_coarse``) and ``index.tsv`` mapping FOV numbers to file names.
Per-localization results (labels, squeezed coordinates) of all FOVs of a dataset are stored as one
long gzip CSV keyed by ``fov``, rows in the same order as the FOV's CSV.
"""

from __future__ import annotations

import glob
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd

from miro.data.readers import read_localizations
from miro.files import atomic_path, write_csv_gz_atomic

INDEX = "index.tsv"


def write_fov_dir(files: Mapping[int, Path | str], out_dir: Path | str) -> None:
    """Write ``index.tsv`` for FOV files already placed in ``out_dir``."""
    index = pd.DataFrame(
        {"fov": sorted(files), "file": [Path(files[k]).name for k in sorted(files)]}
    )
    with atomic_path(Path(out_dir) / INDEX) as tmp:
        index.to_csv(tmp, sep="\t", index=False)


@contextmanager
def staged_dir(out_dir: Path | str) -> Iterator[Path]:
    """Yield a new temporary folder next to ``out_dir``; it replaces ``out_dir`` only if the block
    succeeds (no half-written outputs), and is deleted on any failure (no leftovers).

    Temporary folders of ``out_dir`` that a killed run could not delete are removed first.
    """
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    prefix = f".{out_dir.name}.tmp-"
    for stale in out_dir.parent.glob(f"{glob.escape(prefix)}*"):
        shutil.rmtree(stale, ignore_errors=True)
    tmp = Path(tempfile.mkdtemp(prefix=prefix, dir=out_dir.parent))
    try:
        yield tmp
        if out_dir.exists():
            shutil.rmtree(out_dir)
        os.replace(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


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
    """Store per-localization arrays of several FOVs as one long gzip table (fov + columns),
    atomically; the same values give the same bytes."""
    frames = []
    for fov in sorted(values):
        arr = np.asarray(values[fov])
        arr = arr.reshape(len(arr), -1)
        frame = pd.DataFrame(arr, columns=columns)
        frame.insert(0, "fov", fov)
        frames.append(frame)
    write_csv_gz_atomic(pd.concat(frames, ignore_index=True), path)


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
