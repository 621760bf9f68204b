"""The MIRO authors' published files: where they are, how they are obtained and verified, and
their benchmark metadata (``docs/published.md``; paper, "Code availability").

The repository ``DeepTrackAI/MIRO`` is pinned at one commit (:data:`PUBLISHED_COMMIT`). Every
file the workflow uses from it (the benchmark checkpoints and ``benchmark/metadata.json``) is
listed with size and sha256 in ``resources/published_checkpoints.tsv`` and is obtained the way
the benchmark is (`miro.data.benchmark`): copied from a local copy with the upstream layout
(``<local_dir>/<path in the repository>``, config ``published.local_dir``) or downloaded from
``<base_url>/<path>`` with retries, and kept only if it matches the manifest.

``benchmark/metadata.json`` holds, per benchmark folder, the authors' DBSCAN parameters after
MIRO (``MIRO_DBSCAN_params``: ``eps`` in nm, ``min_samples``; the paper's Supp. Tables 1-2), read
by :func:`read_miro_dbscan`. Torch-free, so that `miro.config` can check a local copy before any
job.
"""

from __future__ import annotations

import json
import math
import os
import re
from pathlib import Path
from typing import Any

import pandas as pd

from miro.data.benchmark import (
    BenchmarkError,
    ChecksumError,
    ManifestRow,
    download_verified,
    read_manifest,
    write_verified,
)

PUBLISHED_REPO = "DeepTrackAI/MIRO"
PUBLISHED_COMMIT = "ed2b318b8015f47c47841b18c55a9fea8ef83982"
PUBLISHED_RAW = f"https://raw.githubusercontent.com/{PUBLISHED_REPO}/{PUBLISHED_COMMIT}"
METADATA_PATH = "benchmark/metadata.json"  # per-folder settings and DBSCAN parameters
_FOLDER = re.compile(r"^(Ground Truth|Multiple Blinking) - Scenario ([2-9]|10)$")


class PublishedError(RuntimeError):
    """Published files that cannot be obtained or read."""


def load_manifest(path: str | os.PathLike) -> pd.DataFrame:
    """Read ``published_checkpoints.tsv`` (columns path, bytes, sha256; one row per file)."""
    return read_manifest(
        path, ("path",), what="published-checkpoint manifest", error=PublishedError
    )


def checkpoint_path(folder: str | None) -> str:
    """Repository path of the published model of a benchmark folder.

    ``"Ground Truth - Scenario 8"`` -> ``benchmark/models/model_scenario_8.pt``,
    ``"Multiple Blinking - Scenario 8"`` -> ``benchmark/models/model_scenario_8_blinking.pt``.
    """
    match = _FOLDER.match(folder or "")
    if match is None:
        raise ValueError(
            f"no published MIRO model for {folder!r}: the authors published one per benchmark "
            "folder, 'Ground Truth - Scenario N' or 'Multiple Blinking - Scenario N', N = 2..10"
        )
    suffix = "_blinking" if match[1] == "Multiple Blinking" else ""
    return f"benchmark/models/model_scenario_{match[2]}{suffix}.pt"


def fetch_published(
    path_in_repo: str,
    dest: str | os.PathLike,
    *,
    manifest: pd.DataFrame,
    local_file: str | os.PathLike | None = None,
    local_dir: str | os.PathLike | None = None,
    base_url: str = PUBLISHED_RAW,
    retries: int = 4,
    backoff: float = 1.0,
    timeout: float = 60.0,
) -> Path:
    """Put the published file ``path_in_repo`` at ``dest``, verified against ``manifest``.

    Copied from ``local_file`` if given (``model.published_file``), else from
    ``local_dir/<path_in_repo>`` if ``local_dir`` is given (``published.local_dir``, the upstream
    layout), else downloaded from ``base_url/<path_in_repo>`` with the benchmark's retrying,
    atomic, verifying download (`miro.data.benchmark.download_verified`).

    Raises:
        PublishedError: the path is not in the manifest, the local file is missing, or the
            download fails (the message names the URL and the settings for a local copy).
        ChecksumError: the copied or downloaded file differs from the manifest (size, sha256).
    """
    rows = manifest[manifest["path"] == path_in_repo]
    if rows.empty:
        raise PublishedError(f"{path_in_repo} is not listed in the published-checkpoint manifest")
    folder, _, file = path_in_repo.rpartition("/")
    row = ManifestRow(folder, file, int(rows["bytes"].iloc[0]), str(rows["sha256"].iloc[0]))
    dest = Path(dest)
    url = f"{base_url.rstrip('/')}/{path_in_repo}"
    if local_file is not None or local_dir is not None:
        if local_file is not None:
            src, setting = Path(local_file), "model.published_file"
        else:
            src, setting = Path(local_dir) / path_in_repo, f"published.local_dir = {local_dir}"
        if not src.is_file():
            raise PublishedError(
                f"{src} ({setting}) does not exist; it should be a copy of {url}"
                + ("" if local_file is not None else " (upstream layout <local_dir>/<path>)")
            )
        with src.open("rb") as f:
            write_verified(f, dest, row, str(src))
        return dest
    try:
        download_verified(url, dest, row, retries=retries, backoff=backoff, timeout=timeout)
    except ChecksumError:
        raise
    except BenchmarkError as err:
        also = (
            ", or datasets.<name>.settings.model.published_file for this one file"
            if path_in_repo.endswith(".pt")
            else ""
        )
        raise PublishedError(
            f"cannot download {url} ({err.__cause__}). Without network access, set "
            f"published.local_dir in the config (published: {{local_dir: /path/to/copy}}) to a "
            f"local copy of {PUBLISHED_REPO} at commit {PUBLISHED_COMMIT} with the upstream "
            f"layout (<local_dir>/{path_in_repo}){also}"
        ) from err.__cause__
    return dest


def read_miro_dbscan(path: str | os.PathLike, folder: str) -> dict[str, Any]:
    """The authors' DBSCAN parameters after MIRO for a benchmark ``folder``, from their
    ``benchmark/metadata.json`` at ``path``: ``{"eps": nm, "min_samples": int}``.

    The file maps each folder name to its settings; ``MIRO_DBSCAN_params`` holds ``eps`` (nm, a
    positive number) and ``min_samples`` (a positive integer). Every layout error names the file
    and the key.
    """
    try:
        metadata = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PublishedError(f"{path}: no such file (the authors' {METADATA_PATH})") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise PublishedError(f"{path}: not a JSON file ({err})") from err
    if not isinstance(metadata, dict):
        raise PublishedError(
            f"{path}: expected an object keyed by benchmark folder, got {type(metadata).__name__}"
        )
    if folder not in metadata:
        raise PublishedError(
            f"{path}: no entry for benchmark folder {folder!r} "
            f"(it has {len(metadata)}: {', '.join(sorted(map(str, metadata)))[:200]})"
        )
    entry = metadata[folder]
    params = entry.get("MIRO_DBSCAN_params") if isinstance(entry, dict) else None
    where = f"{path}: {folder!r}.MIRO_DBSCAN_params"
    if not isinstance(params, dict):
        raise PublishedError(f"{where}: missing or not an object with eps and min_samples")
    eps, min_samples = params.get("eps"), params.get("min_samples")
    if isinstance(eps, bool) or not isinstance(eps, int | float) or not math.isfinite(eps):
        raise PublishedError(f"{where}.eps: {eps!r} is not a number (nm)")
    if eps <= 0:
        raise PublishedError(f"{where}.eps: {eps!r} is not positive")
    if isinstance(min_samples, bool) or not isinstance(min_samples, int) or min_samples < 1:
        raise PublishedError(f"{where}.min_samples: {min_samples!r} is not a positive integer")
    return {"eps": float(eps), "min_samples": int(min_samples)}
