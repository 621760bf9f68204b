"""Per-FOV results (labels, squeezed coordinates) read back against the FOVs they belong to.

A results file (:func:`miro.data.fovs.write_per_fov`: one long table keyed by ``fov``, rows in
the order of the FOV's localization file) goes stale when the dataset folder changes after it
was written, e.g. a FOV file replaced by one with another number of localizations. Such a file
is rejected here naming both files, the FOV and the rule to re-run, instead of failing later
with a bare shape error (docs/flags.md).
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import numpy as np
import pandas as pd

from miro.data.fovs import fov_index, read_per_fov


def read_results(
    path: str | os.PathLike,
    columns: list[str],
    fov_dir: str | os.PathLike,
    fovs: Mapping[int, pd.DataFrame],
    remedy: str,
) -> dict[int, np.ndarray]:
    """The ``columns`` of results file ``path`` for every FOV of ``fovs`` (FOV -> its
    localizations, read from the dataset folder ``fov_dir``), checked to have one row per
    localization; other FOVs in the file are ignored.

    Raises ``ValueError`` naming ``path``, the FOV and its localization file when a FOV is
    missing from ``path`` or has another number of rows, ending with ``remedy`` (what to do,
    e.g. "the labels are stale: re-run clustering (rule cluster)").
    """
    values = read_per_fov(path, columns)
    files = fov_index(fov_dir)
    for fov, frame in fovs.items():
        if fov not in values:
            raise ValueError(
                f"{path}: no rows for FOV {fov} ({files[fov]}, {len(frame)} localizations); "
                f"{remedy}"
            )
        if len(values[fov]) != len(frame):
            raise ValueError(
                f"{path}: FOV {fov} has {len(values[fov])} rows but its localization file "
                f"{files[fov]} has {len(frame)} localizations; {remedy}"
            )
    return {fov: values[fov] for fov in fovs}
