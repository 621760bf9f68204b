"""Shared fixtures: where the local benchmark copy and the authors' published files live."""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# rule scripts run in-process (runpy) find workflow/scripts/_miro_path.py as under Snakemake,
# which puts a script's folder on sys.path
sys.path.append(str(REPO / "workflow" / "scripts"))


def benchmark_root() -> Path:
    """The local copy of the SMLM clustering benchmark (``MIRO_BENCHMARK_DIR`` or ../shared)."""
    return Path(os.environ.get("MIRO_BENCHMARK_DIR", REPO.parent / "shared" / "benchmark"))


@pytest.fixture(scope="session")
def benchmark_dir() -> Path:
    root = benchmark_root()
    if not root.is_dir():
        pytest.skip(f"benchmark data not found at {root} (set MIRO_BENCHMARK_DIR)")
    return root


def weights_root() -> Path:
    """The local copy of the MIRO authors' files, upstream layout (``MIRO_WEIGHTS_DIR`` or
    ../shared/weights)."""
    return Path(os.environ.get("MIRO_WEIGHTS_DIR", REPO.parent / "shared" / "weights"))


@pytest.fixture(scope="session")
def weights_dir() -> Path:
    root = weights_root()
    if not root.is_dir():
        pytest.skip(f"the authors' published files not found at {root} (set MIRO_WEIGHTS_DIR)")
    return root


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture
def closed_port_url() -> str:
    """A URL on 127.0.0.1 where nothing listens: a download that must fail, offline."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"
