"""Error messages that say where they happened (which FOV, which files), for every layer."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator


@contextlib.contextmanager
def about(where: str) -> Iterator[None]:
    """Re-raise a ``ValueError`` of the block prefixed with ``where`` (the FOV and its files)."""
    try:
        yield
    except ValueError as error:
        raise ValueError(f"{where}: {error}") from error
