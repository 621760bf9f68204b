"""Shared fixtures of the workflow tests: the tiny configuration, run once per session."""

from __future__ import annotations

from pathlib import Path

import pytest
from workflow_run import TINY, snakemake


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory) -> Path:
    workdir = tmp_path_factory.mktemp("tiny")
    run = snakemake(workdir, "--configfile", str(TINY), "--cores", "2", timeout=2400)
    assert run.returncode == 0, run.stderr[-6000:]
    return workdir
