"""Atomic, byte-reproducible output files.

Every file the workflow writes goes through :func:`atomic_path`: the content is written to a
temporary file in the same directory and renamed on success, so a crash or a kill never leaves a
half-written output, and a failure removes the temporary file. Compressed CSVs are written with a
fixed gzip header (no file name, mtime 0), so equal tables give equal bytes.
"""

from __future__ import annotations

import gzip
import io
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it to ``path`` only if the block succeeds.

    The temporary name keeps the full file name as its suffix (``.<random>.tmp.<name>``), so
    writers that pick the format from the extension (``savefig``, ``to_parquet``...) still work.
    Parent directories are created. On any exception the temporary file is removed and ``path``
    is left untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{secrets.token_hex(4)}.tmp.{path.name}")
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


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


def write_csv_gz_atomic(df: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Write ``df`` as gzip-compressed CSV with a reproducible header (mtime 0, no file name)."""
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0) as gz:
        gz.write(df.to_csv(index=False).encode("utf-8"))
    with atomic_path(path) as tmp:
        Path(tmp).write_bytes(buffer.getvalue())
    return Path(path)
