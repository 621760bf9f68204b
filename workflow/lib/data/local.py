"""Your own annotated data as a dataset: a folder of labelled localization files.

The paper trains MIRO on the annotated clusters of a few fields of view (FOVs) and scores it on
the others (Methods, "MIRO training and augmentations": three of the 50 benchmark FOVs; one
cluster suffices, Supplementary Table 5). A dataset with ``source: local`` does the same with
the user's files: one FOV per file in a folder, in any format
:func:`miro.data.readers.read_localizations` reads, with a label column (``label_column``) in
the benchmark's convention (``docs/reference.md#labels``: 0 = non-clustered, k > 0 = cluster k).

Rule obtain reads every file once and checks all of them before writing anything
(:func:`read_local`: one error lists every bad file and its problem), then writes them as the
workflow's FOV files (``x, y, index`` in nm, :mod:`miro.data.fovs`) named after the user's
files. FOVs are numbered 1..N in the natural order of the file names (``fov2`` before
``fov10``), the numbers the split, the metrics and ``example_fov`` use; ``index.tsv`` of the
dataset folder maps them back to the files.

Each FOV is min-max normalised per axis like a benchmark FOV (``docs/reference.md#graph``), and
a trained model's windows for new acquisitions (rule apply) are the training FOVs' mean extent
(:func:`miro.core.training.fov_extent`): FOVs should be roughly square and of one size, which
:func:`extent_warnings` checks.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from miro.data.readers import LocalizationFileError, read_localizations

#: Columns of the workflow's FOV files written from the user's files.
FOV_COLUMNS = ("x", "y", "index")
#: A FOV whose sides differ by more than this factor is stretched by the per-axis normalisation.
MAX_ASPECT = 1.1
#: A FOV whose extent is off the median extent by more than this factor is squeezed at
#: another scale than the others.
MAX_SIZE_RATIO = 1.25


class LocalDataError(ValueError):
    """Files of a local dataset that cannot be used; the message names every file and problem."""


def natural_key(name: str) -> list[str | int]:
    """Sort key of a file name with its digit runs compared as numbers (``fov2`` < ``fov10``)."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name)]


def local_files(path: str | os.PathLike, pattern: str) -> dict[int, Path]:
    """FOV number (1..N, natural order of the names) -> file, for the regular, non-hidden files
    of folder ``path`` that match the glob ``pattern``; {} when there are none or no folder."""
    folder = Path(path)
    if not folder.is_dir():
        return {}
    files = [p for p in folder.glob(pattern) if p.is_file() and not p.name.startswith(".")]
    files.sort(key=lambda p: (natural_key(p.name), p.name))  # names equal but for case: fixed
    return {number: p for number, p in enumerate(files, start=1)}


def train_fov_numbers(files: Mapping[int, Path], train_files: Sequence[str]) -> list[int]:
    """FOV numbers of the training files named by ``train_files`` (file names in the folder,
    with or without their extension). Raises ValueError naming the unknown ones."""
    numbers, unknown = [], []
    for name in train_files:
        found = [n for n, p in files.items() if name in (p.name, p.stem)]
        if len(found) == 1:
            numbers.append(found[0])
        else:
            unknown.append(name)
    if unknown:
        names = [p.name for p in files.values()]
        raise ValueError(f"training files {unknown} are not (exactly one of) the files {names}")
    return sorted(numbers)


def read_annotated(
    path: str | os.PathLike,
    *,
    fmt: str = "auto",
    columns: Mapping[str, str] | None = None,
    label_column: str = "index",
) -> pd.DataFrame:
    """One annotated FOV: ``x``, ``y`` (nm) and its labels from ``label_column`` as ``index``
    (non-negative integers, 0 = non-clustered). Raises LocalizationFileError naming the file."""
    mapping = dict(columns or {}) | {"index": label_column}
    frame = read_localizations(path, fmt=fmt, columns=mapping)
    return frame[list(FOV_COLUMNS)].reset_index(drop=True)


def read_local(
    files: Mapping[int, Path],
    *,
    fmt: str = "auto",
    columns: Mapping[str, str] | None = None,
    label_column: str = "index",
) -> dict[int, pd.DataFrame]:
    """Every file of a local dataset (:func:`read_annotated`), by FOV number.

    All files are read before any error is raised: LocalDataError lists each unreadable file and
    missing or bad label column, or says that no file has a cluster (label > 0; the
    augmentation needs at least one).
    """
    frames, problems = {}, []
    for number, path in files.items():
        try:
            frames[number] = read_annotated(
                path, fmt=fmt, columns=columns, label_column=label_column
            )
        except LocalizationFileError as err:
            problems.append(str(err))
    if not problems and not any((f["index"] > 0).any() for f in frames.values()):
        folder = sorted({str(p.parent) for p in files.values()})
        problems.append(
            f"{', '.join(folder)}: no file has an annotated cluster ({label_column!r} > 0 on no "
            "row); is label_column the column of your cluster ids?"
        )
    if problems:
        raise LocalDataError(
            f"{len(problems)} problem(s) with the annotated files:\n" + "\n".join(problems)
        )
    return frames


def fov_summary(frames: Mapping[int, pd.DataFrame]) -> pd.DataFrame:
    """Per FOV: localizations, annotated clusters, clustered fraction, width and height (nm)."""
    rows = []
    for number, frame in frames.items():
        labels = frame["index"].to_numpy()
        span = np.ptp(frame[["x", "y"]].to_numpy(float), axis=0)
        rows.append(
            {
                "fov": number,
                "localizations": len(frame),
                "clusters": int(np.unique(labels[labels > 0]).size),
                "clustered_fraction": float(np.mean(labels > 0)),
                "width_nm": float(span[0]),
                "height_nm": float(span[1]),
            }
        )
    return pd.DataFrame(rows)


def extent_warnings(summary: pd.DataFrame, names: Mapping[int, str]) -> list[str]:
    """FOVs the per-axis normalisation treats differently from the others: not square (sides
    differ by more than :data:`MAX_ASPECT`) or far from the median extent (by more than
    :data:`MAX_SIZE_RATIO`); ``names`` name the FOVs' files."""
    extent = summary[["width_nm", "height_nm"]].max(axis=1)
    shortest = summary[["width_nm", "height_nm"]].min(axis=1)
    median = float(extent.median())
    out = []
    for row, side, short in zip(summary.itertuples(), extent, shortest, strict=True):
        where = f"FOV {row.fov} ({names[row.fov]}, {row.width_nm:.0f} x {row.height_nm:.0f} nm)"
        if short <= 0 or side / short > MAX_ASPECT:
            out.append(
                f"{where} is not square: its axes are normalised separately, which stretches "
                "its clusters; crop the FOVs to squares"
            )
        if median > 0 and max(side / median, median / side) > MAX_SIZE_RATIO:
            out.append(
                f"{where} differs from the median extent {median:.0f} nm: MIRO sees its "
                "clusters at another scale; crop the FOVs to one size"
            )
    return out
