"""The SMLM clustering benchmark (Nieves et al. 2023): obtain it, verify it, enumerate its FOVs.

The paper evaluates MIRO on the benchmark's scenarios 2-10, with and without blinking (Results;
``docs/reference.md#benchmark``): 18 folders of 50 CSV files, one per field of view (FOV).
Files come from the upstream GitHub repository pinned at one commit, one raw URL per file, or
from a local copy with the upstream layout (``<local_dir>/<folder>/<file>``); either way every
file must match ``resources/benchmark_manifest.tsv`` (size and sha256) before it is used.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import time
from http.client import HTTPException
from pathlib import Path
from typing import BinaryIO, NamedTuple
from urllib.error import HTTPError
from urllib.parse import quote
from urllib.request import urlopen

import pandas as pd
from tqdm.auto import tqdm

from miro.files import atomic_path

UPSTREAM_REPO = "DJ-Nieves/ARI-and-IoU-cluster-analysis-evaluation"
UPSTREAM_COMMIT = "3b0580b428ae316207cc2fb1ee89345851fc53ed"
UPSTREAM_RAW = f"https://raw.githubusercontent.com/{UPSTREAM_REPO}/{UPSTREAM_COMMIT}"
FOLDERS = tuple(
    f"{kind} - Scenario {n}" for kind in ("Ground Truth", "Multiple Blinking") for n in range(2, 11)
)
FOV_NM = 2000.0  # every FOV is 2000 x 2000 nm^2
_CHUNK = 1 << 16
log = logging.getLogger(__name__)


class BenchmarkError(RuntimeError):
    """Benchmark data that cannot be obtained."""


class ChecksumError(BenchmarkError):
    """A benchmark file whose size or sha256 differs from the manifest."""


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


def sha256sum(path: str | os.PathLike) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def verify_file(path: str | os.PathLike, bytes: int, sha256: str) -> bool:
    """True if ``path`` is a file of exactly ``bytes`` bytes whose sha256 is ``sha256``."""
    path = Path(path)
    return path.is_file() and path.stat().st_size == bytes and sha256sum(path) == sha256


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
    retries: int = 4,
    backoff: float = 1.0,
    timeout: float = 60.0,
    progress: bool = True,
) -> list[Path]:
    """Make ``dest/<folder>/`` hold every manifest file of ``folder``, each verified.

    Files already in ``dest`` that match the manifest are kept; any other file of that name
    (truncated, corrupted) is deleted and obtained again. Files are copied from ``local_dir`` if
    given (upstream layout, checked against the manifest), else downloaded from
    ``base_url/<folder>/<file>`` with ``retries`` further attempts after ``backoff * 2**k``
    seconds. Files are streamed to a temporary name and renamed only once they match.

    Returns:
        The folder's files, sorted by FOV number.

    Raises:
        ValueError: ``folder`` is not one of :data:`FOLDERS`.
        ChecksumError: a copied or downloaded file does not match the manifest.
        BenchmarkError: a file is missing from ``local_dir``, or cannot be downloaded (the message
            says to set ``benchmark.local_dir`` when offline).
    """
    if folder not in FOLDERS:
        raise ValueError(f"unknown benchmark folder {folder!r}; valid folders: {list(FOLDERS)}")
    rows = [ManifestRow(*r) for r in manifest[manifest["folder"] == folder].itertuples(index=False)]
    if not rows:
        raise BenchmarkError(f"the manifest lists no files for {folder!r}")
    out_dir = Path(dest) / folder
    for row in tqdm(rows, desc=folder, unit="file", disable=not progress):
        target = out_dir / row.file
        if target.exists() and not verify_file(target, row.bytes, row.sha256):
            log.warning("%s does not match the manifest; obtaining it again", target)
            target.unlink()
        if target.exists():
            continue
        if local_dir is None:
            url = f"{base_url.rstrip('/')}/{quote(folder)}/{quote(row.file)}"
            download_verified(url, target, row, retries=retries, backoff=backoff, timeout=timeout)
        else:
            _copy_local(Path(local_dir), target, row)
    return sorted((out_dir / row.file for row in rows), key=fov_number)


def write_verified(src: BinaryIO, target: Path, row: ManifestRow, source: str) -> None:
    """Stream ``src`` to ``target`` atomically; keep it only if size and sha256 match ``row``."""
    digest, size = hashlib.sha256(), 0
    with atomic_path(target) as tmp, tmp.open("wb") as out:
        while chunk := src.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
            out.write(chunk)
        if (size, digest.hexdigest()) != (row.bytes, row.sha256):
            raise ChecksumError(
                f"{row.folder}/{row.file} from {source} does not match the manifest: expected "
                f"{row.bytes} bytes, sha256 {row.sha256}; got {size} bytes, "
                f"sha256 {digest.hexdigest()}"
            )


def _copy_local(local_dir: Path, target: Path, row: ManifestRow) -> None:
    src = local_dir / row.folder / row.file
    if not src.is_file():
        raise BenchmarkError(
            f"{src} is missing from the local benchmark copy (benchmark.local_dir = {local_dir}), "
            "which must have the upstream layout <local_dir>/<folder>/<file>"
        )
    with src.open("rb") as f:
        write_verified(f, target, row, str(src))


def download_verified(
    url: str, target: Path, row: ManifestRow, *, retries: int, backoff: float, timeout: float
) -> None:
    """Download ``url`` to ``target``, verified against ``row`` (see `write_verified`).

    ``retries`` further attempts after ``backoff * 2**k`` seconds; client errors (404...) are
    not retried. Raises ChecksumError on a mismatch, else BenchmarkError whose ``__cause__`` is
    the last network error.
    """
    for attempt in range(retries + 1):
        try:
            with urlopen(url, timeout=timeout) as response:
                write_verified(response, target, row, url)
            return
        except (OSError, HTTPException, ChecksumError) as err:
            error = err
            if isinstance(err, HTTPError) and 400 <= err.code < 500 and err.code not in (408, 429):
                break
        if attempt < retries:
            time.sleep(backoff * 2**attempt)
    if isinstance(error, ChecksumError):
        raise error
    raise BenchmarkError(
        f"cannot download {url} ({error}; {attempt + 1} attempts). Without network access, set "
        "benchmark.local_dir in the config (benchmark: {local_dir: /path/to/copy}) to a local "
        f"copy of the benchmark with the upstream layout (<local_dir>/{row.folder}/{row.file})"
    ) from error
