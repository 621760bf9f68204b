"""The SMLM clustering benchmark (Nieves et al. 2023): obtain it, verify it, enumerate its FOVs.

The paper evaluates MIRO on the benchmark's scenarios 2-10, with and without blinking (Results;
``docs/reference.md#benchmark``): 18 folders of 50 CSV files, one per field of view (FOV).
Files come from the upstream GitHub repository pinned at one commit, one raw URL per file, through
the download cache shared with the published weights (`miro.data.cache`), or from a local copy
with the upstream layout (``<local_dir>/<folder>/<file>``); either way every file must match
``resources/benchmark_manifest.tsv`` (size and sha256) before it is used.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import NamedTuple

import pandas as pd
from tqdm.auto import tqdm

from miro.data.cache import DownloadError, cached, check_file, place

UPSTREAM_REPO = "DJ-Nieves/ARI-and-IoU-cluster-analysis-evaluation"
UPSTREAM_COMMIT = "3b0580b428ae316207cc2fb1ee89345851fc53ed"
UPSTREAM_RAW = f"https://raw.githubusercontent.com/{UPSTREAM_REPO}/{UPSTREAM_COMMIT}"
FOLDERS = tuple(
    f"{kind} - Scenario {n}" for kind in ("Ground Truth", "Multiple Blinking") for n in range(2, 11)
)
FOV_NM = 2000.0  # every FOV is 2000 x 2000 nm^2


class BenchmarkError(RuntimeError):
    """Benchmark data that cannot be obtained."""


class ManifestRow(NamedTuple):
    folder: str
    file: str
    bytes: int
    sha256: str


def read_manifest(
    path: str | os.PathLike,
    key: tuple[str, ...],
    *,
    what: str,
    error: type[Exception] = BenchmarkError,
) -> pd.DataFrame:
    """Read a manifest TSV of verified files: the ``key`` columns, which name each file once,
    then ``bytes`` (size) and ``sha256`` (64 hex digits).

    Every problem raises ``error`` naming ``path`` (``what`` says which manifest it is).
    """
    columns = [*key, "bytes", "sha256"]
    try:
        df = pd.read_csv(path, sep="\t", dtype={**dict.fromkeys(key, str), "sha256": str})
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise error(f"{path}: cannot read the {what} ({err})") from err
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise error(f"{path}: manifest lacks columns {missing}; has {list(df.columns)}")
    if not pd.api.types.is_integer_dtype(df["bytes"]) or df.isna().any().any():
        raise error(f"{path}: manifest has empty cells or non-integer byte counts")
    bad = ~df["sha256"].str.fullmatch("[0-9a-f]{64}") | (df["bytes"] < 0)
    if bad.any():
        row = df[bad].iloc[0]
        raise error(
            f"{path}: {'/'.join(row[list(key)])} needs a size >= 0 bytes and a sha256 of 64 "
            f"lowercase hex digits, got {row['bytes']} and {row['sha256']!r}"
        )
    duplicated = df.duplicated(list(key))
    if duplicated.any():
        raise error(f"{path}: {'/'.join(df[duplicated].iloc[0][list(key)])} is listed twice")
    return df[columns].reset_index(drop=True)


def load_manifest(path: str | os.PathLike) -> pd.DataFrame:
    """Read ``benchmark_manifest.tsv`` (columns folder, file, bytes, sha256; one row per upstream
    file)."""
    return read_manifest(path, ("folder", "file"), what="benchmark manifest")


def fov_number(filename: str | os.PathLike) -> int:
    """FOV number = last integer in the file name (``diffden_DetectionList1.csv`` -> 1)."""
    numbers = re.findall(r"\d+", Path(filename).stem)
    if not numbers:
        raise ValueError(f"{filename}: no FOV number (the last integer in the file name)")
    return int(numbers[-1])


def list_fovs(folder_dir: str | os.PathLike) -> dict[int, Path]:
    """FOV number -> CSV file of one benchmark folder, sorted by FOV number."""
    folder_dir = Path(folder_dir)
    files = sorted(p for p in folder_dir.glob("*.csv") if not p.name.startswith("."))
    if not files:
        raise BenchmarkError(f"{folder_dir}: no CSV files (is this a benchmark folder?)")
    fovs: dict[int, Path] = {}
    for path in files:
        n = fov_number(path)
        if n in fovs:
            raise BenchmarkError(
                f"{folder_dir}: FOV {n} appears twice ({fovs[n].name}, {path.name})"
            )
        fovs[n] = path
    return dict(sorted(fovs.items()))


def fetch_folder(
    folder: str,
    dest: str | os.PathLike,
    *,
    manifest: pd.DataFrame,
    local_dir: str | os.PathLike | None = None,
    base_url: str = UPSTREAM_RAW,
    cache_dir: str | os.PathLike | None = None,
    retries: int = 4,
    progress: bool = True,
) -> list[Path]:
    """Copy every manifest file of ``folder`` to ``dest/<folder>/``, each verified.

    The files come from ``local_dir`` if given (upstream layout, each checked against the
    manifest; the network is not used), else from the download cache shared by every clone
    (`miro.data.cache.cached`: downloaded from ``base_url/<folder>/<file>`` with ``retries``
    further attempts when absent from the cache or not matching the manifest).

    Returns:
        The folder's files, sorted by FOV number.

    Raises:
        ValueError: ``folder`` is not one of :data:`FOLDERS`.
        miro.data.cache.ChecksumError: a local or downloaded file does not match the manifest.
        BenchmarkError: a file is missing from ``local_dir``, or cannot be downloaded (the message
            names the URL and says to set ``local_copies`` when offline).
    """
    if folder not in FOLDERS:
        raise ValueError(f"unknown benchmark folder {folder!r}; valid folders: {list(FOLDERS)}")
    rows = [ManifestRow(*r) for r in manifest[manifest["folder"] == folder].itertuples(index=False)]
    if not rows:
        raise BenchmarkError(f"the manifest lists no files for {folder!r}")
    out_dir = Path(dest) / folder
    for row in tqdm(rows, desc=folder, unit="file", disable=not progress):
        if local_dir is None:
            src = _download(row, base_url, cache_dir, retries)
        else:
            src = Path(local_dir) / folder / row.file
            if not src.is_file():
                raise BenchmarkError(
                    f"{src} is missing from the local benchmark copy (benchmark.local_dir = "
                    f"{local_dir}), which must have the upstream layout <local_dir>/<folder>/<file>"
                )
            check_file(src, row.bytes, row.sha256)
        place(src, out_dir / row.file)
    return sorted((out_dir / row.file for row in rows), key=fov_number)


def _download(row: ManifestRow, base_url: str, cache_dir, retries: int) -> Path:
    """The cached, verified copy of one benchmark file (`miro.data.cache.cached`)."""
    path = f"{row.folder}/{row.file}"
    try:
        return cached(
            path,
            row.sha256,
            repo=UPSTREAM_REPO,
            commit=UPSTREAM_COMMIT,
            base_url=base_url,
            cache_dir=cache_dir,
            retries=retries,
        )
    except DownloadError as err:
        raise BenchmarkError(
            f"{err}. Without network access, set local_copies: DIR in the config, DIR/benchmark "
            f"being a copy of the benchmark with the upstream layout (DIR/benchmark/{path}); or "
            "set benchmark.local_dir to such a copy"
        ) from err
