"""Shared fixtures: where the local benchmark copy lives, and small synthetic FOVs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def benchmark_root() -> Path:
    """The local copy of the SMLM clustering benchmark (``MIRO_BENCHMARK_DIR`` or ../shared)."""
    return Path(os.environ.get("MIRO_BENCHMARK_DIR", REPO.parent / "shared" / "benchmark"))


@pytest.fixture(scope="session")
def benchmark_dir() -> Path:
    root = benchmark_root()
    if not root.is_dir():
        pytest.skip(f"benchmark data not found at {root} (set MIRO_BENCHMARK_DIR)")
    return root


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO
