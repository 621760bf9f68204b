"""Tests for miro.applications.cli: ``miro apply`` in-process, exit codes and messages on bad
input."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from miro.applications.apply import simulate_acquisition
from miro.applications.cli import main
from miro.core.checkpoint import save_checkpoint
from miro.core.graph import NUM_EIGENVECTORS
from miro.core.model import MIRO


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    """A checkpoint with its training FOV extent and a generic TSV with its own column names."""
    root = tmp_path_factory.mktemp("cli")
    torch.manual_seed(0)
    graph = {"radius": 0.1, "eigenvectors": NUM_EIGENVECTORS, "fov_nm": 2500.0}
    save_checkpoint(root / "model.pt", MIRO(width=16, steps=3), radius=0.1, graph=graph)
    table = simulate_acquisition(1, fov_size=4000.0, n_clusters=20)
    table = table.rename(columns={"x [nm]": "X_nm", "y [nm]": "Y_nm"})
    table.to_csv(root / "cell.tsv", sep="\t", index=False)
    (root / "bad.csv").write_text("X_nm,Y_nm\n1,2\n3,oops\n5,6\n")
    return {"root": root, "model": root / "model.pt", "good": root / "cell.tsv"}


def args(files: dict[str, Path], *inputs: Path, out: Path, extra: tuple[str, ...] = ()) -> list:
    return [
        "apply",
        *map(str, inputs),
        "--checkpoint",
        str(files["model"]),
        "--eps",
        "30",
        "--min-samples",
        "4",
        "--column",
        "x=X_nm",
        "--column",
        "y=Y_nm",
        "--device",
        "cpu",
        "--out",
        str(out),
        *extra,
    ]


def test_apply_writes_labels_next_to_the_input(files, tmp_path, capsys):
    baseline = ("--baseline-eps", "60", "--baseline-min-samples", "4")
    assert main(args(files, files["good"], out=tmp_path, extra=baseline)) == 0
    labels = pd.read_csv(tmp_path / "cell.labels.csv")
    raw = pd.read_csv(files["good"], sep="\t")
    assert len(labels) == len(raw)
    np.testing.assert_array_equal(labels[["x", "y"]], raw[["X_nm", "Y_nm"]])
    assert {"frame", "id", "true_cluster", "miro_cluster", "dbscan_cluster"} <= set(labels)
    assert (tmp_path / "cell.clusters_dbscan.csv").exists()
    assert str(tmp_path / "cell.labels.csv") in capsys.readouterr().out


def test_bad_file_exits_2_naming_it_and_writes_nothing(files, tmp_path, capsys):
    bad = files["root"] / "bad.csv"
    assert main(args(files, files["good"], bad, out=tmp_path / "out")) == 2
    err = capsys.readouterr().err
    assert "bad.csv" in err and "Y_nm" in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "extra",
    [
        ("--baseline-eps", "60"),  # without --baseline-min-samples
        ("--overlap-nm", "5000"),  # more than half the window
        ("--column", "x"),  # not NAME=COLUMN
    ],
)
def test_bad_options_exit_2(files, tmp_path, capsys, extra):
    assert main(args(files, files["good"], out=tmp_path, extra=extra)) == 2
    assert capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_missing_checkpoint_exits_2(files, tmp_path, capsys):
    argv = args(files, files["good"], out=tmp_path)
    argv[argv.index("--checkpoint") + 1] = str(tmp_path / "nope.pt")
    assert main(argv) == 2
    assert "nope.pt" in capsys.readouterr().err


def test_runs_as_a_module():
    done = subprocess.run(
        [sys.executable, "-m", "miro.applications.cli", "apply", "--help"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0 and "--checkpoint" in done.stdout
