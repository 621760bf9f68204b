"""Atomic, byte-reproducible output files, and fingerprints of what a result was computed from.

Every file the workflow writes goes through :func:`atomic_path`: the content is written to a
temporary file in the same directory and renamed on success, so a crash or a kill never leaves a
half-written output, and a failure removes the temporary file; a successful write also removes
the temporary files of the same target that a killed writer left behind. Compressed CSVs are
written with a fixed gzip header (no file name, mtime 0) and torch files are serialised in memory
(``torch.save`` names the archive after the file it writes to), so equal contents give equal
bytes (docs/reproducibility.md).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import re
import secrets
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

_TOKEN_HEX = 4  # random bytes in a temporary name


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it to ``path`` only if the block succeeds.

    The temporary name keeps the full file name as its suffix (``.<random>.tmp.<name>``), so
    writers that pick the format from the extension (``savefig``, ``to_parquet``...) still work.
    Parent directories are created. On any exception the temporary file is removed and ``path``
    is left untouched. After a successful rename, temporary files of ``path`` left by writers
    that were killed (and so could not clean up) are removed.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{secrets.token_hex(_TOKEN_HEX)}.tmp.{path.name}")
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _remove_stale_temporaries(path)


def _remove_stale_temporaries(path: Path) -> None:
    """Delete ``.<random>.tmp.<name>`` files of ``path`` (from writers that were killed)."""
    stale = re.compile(rf"\.[0-9a-f]{{{2 * _TOKEN_HEX}}}\.tmp\.{re.escape(path.name)}")
    for entry in path.parent.iterdir():
        if stale.fullmatch(entry.name) and entry.is_file():
            entry.unlink(missing_ok=True)


def write_csv_atomic(df: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Write ``df`` (without its row index) as CSV to ``path`` atomically; returns the path."""
    with atomic_path(path) as tmp:
        df.to_csv(tmp, index=False)
    return Path(path)


def write_text_atomic(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically; returns the path."""
    with atomic_path(path) as tmp:
        Path(tmp).write_text(text, encoding="utf-8")
    return Path(path)


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically; returns the path."""
    with atomic_path(path) as tmp:
        Path(tmp).write_bytes(data)
    return Path(path)


def write_csv_gz_atomic(df: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Write ``df`` as gzip-compressed CSV with a reproducible header (mtime 0, no file name)."""
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0) as gz:
        gz.write(df.to_csv(index=False).encode("utf-8"))
    return write_bytes_atomic(path, buffer.getvalue())


def write_torch_atomic(obj: Any, path: str | os.PathLike) -> Path:
    """``torch.save`` ``obj`` to ``path`` atomically, serialised in memory: writing to the
    temporary file directly would record its random name in the archive, so equal objects
    would not give equal bytes."""
    import torch  # only the writers of torch files need it

    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return write_bytes_atomic(path, buffer.getvalue())


def fingerprint(parts: Iterable[Any]) -> str:
    """sha256 (hex) over ``parts`` in order: arrays and (CPU or GPU) tensors by dtype, shape and
    content, anything else by its ``repr``; equal inputs give equal fingerprints in any process.
    """
    digest = hashlib.sha256()
    for part in parts:
        if hasattr(part, "detach"):  # a torch tensor
            part = part.detach().cpu().numpy()
        if isinstance(part, np.ndarray):
            part = np.ascontiguousarray(part)
            digest.update(f"array {part.dtype.str} {part.shape}".encode())
            digest.update(part.view(np.uint8).reshape(-1) if part.size else b"")
        else:
            digest.update(f"value {part!r}".encode())
        digest.update(b"\0")
    return digest.hexdigest()
