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
    assert {"frame", "id", "true_cluster", "x_squeezed", "y_squeezed"} <= set(labels)
    assert {"miro_cluster", "dbscan_cluster"} <= set(labels)
    assert (tmp_path / "cell.clusters_dbscan.csv").exists()
    out = capsys.readouterr().out
    assert str(tmp_path / "cell.labels.csv") in out
    assert "summary:\n  cell: " in out and "MIRO + DBSCAN" in out


def error_line(capsys) -> str:
    """The one error line on stderr (logging may add others before it)."""
    lines = [
        ln for ln in capsys.readouterr().err.splitlines() if ln.startswith("miro apply: error")
    ]
    assert len(lines) == 1
    return lines[0]


def test_bad_file_exits_2_naming_it_and_writes_nothing(files, tmp_path, capsys):
    bad = files["root"] / "bad.csv"
    assert main(args(files, files["good"], bad, out=tmp_path / "out")) == 2
    err = error_line(capsys)
    assert "bad.csv" in err and "Y_nm" in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "name, content",
    [
        ("empty.csv", b""),
        ("nan.csv", b"X_nm,Y_nm\n1,2\nnan,4\n5,6\n"),
        ("header only.csv", b"X_nm,Y_nm\n"),
        ("two points.csv", b"X_nm,Y_nm\n1,2\n3,4\n"),
        ("binary.csv", bytes(range(256)) * 8),
        ("zellé ü.csv", b"X_nm;Y_nm\n1;oops\n"),
    ],
)
def test_malformed_files_get_one_line_naming_them(files, tmp_path, capsys, name, content):
    path = tmp_path / "in put" / name
    path.parent.mkdir()
    path.write_bytes(content)
    assert main(args(files, path, out=tmp_path / "out")) == 2
    assert name in error_line(capsys)
    assert not (tmp_path / "out").exists()


def test_bom_semicolons_and_odd_paths_are_read(files, tmp_path):
    table = pd.read_csv(files["good"], sep="\t")
    path = tmp_path / "mes données" / "zelle 1.csv"
    path.parent.mkdir()
    path.write_bytes(b"\xef\xbb\xbf" + table.to_csv(sep=";", index=False).encode())
    assert main(args(files, path, out=tmp_path / "out")) == 0
    assert len(pd.read_csv(tmp_path / "out" / "zelle 1.labels.csv")) == len(table)


@pytest.mark.parametrize(
    "extra, message",
    [
        (("--baseline-eps", "60"), "both --baseline-eps"),  # without --baseline-min-samples
        (("--overlap-nm", "5000"), "overlap_nm"),  # more than half the window
        (("--eps", "-1"), "eps must be a positive"),
        (("--min-samples", "0"), "min_samples must be an integer"),
        (("--baseline-eps", "0", "--baseline-min-samples", "4"), "baseline DBSCAN eps"),
        (("--unit", "px"), "pixel size"),
        (("--pixel-size", "0"), "pixel size"),
        (("--clusterer", "hdbscan"), "--clusterer hdbscan takes --min-cluster-size"),
        (("--min-cluster-size", "5"), "--clusterer dbscan takes --eps"),
    ],
)
def test_bad_options_exit_2_before_any_work(files, tmp_path, capsys, extra, message):
    assert main(args(files, files["good"], out=tmp_path, extra=extra)) == 2
    assert message in error_line(capsys)
    assert not list(tmp_path.iterdir())


def test_usage_errors_exit_2(files, tmp_path, capsys):
    assert main(args(files, files["good"], out=tmp_path, extra=("--column", "x"))) == 2
    assert "NAME=COLUMN" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_existing_outputs_need_force(files, tmp_path, capsys):
    assert main(args(files, files["good"], out=tmp_path)) == 0
    before = (tmp_path / "cell.labels.csv").stat().st_mtime_ns
    capsys.readouterr()
    assert main(args(files, files["good"], out=tmp_path)) == 2
    err = error_line(capsys)
    assert str(tmp_path / "cell.labels.csv") in err and "--force" in err
    assert (tmp_path / "cell.labels.csv").stat().st_mtime_ns == before
    assert main(args(files, files["good"], out=tmp_path, extra=("--force",))) == 0


def test_out_naming_a_file_exits_2(files, tmp_path, capsys):
    taken = tmp_path / "results.csv"
    taken.write_text("mine")
    assert main(args(files, files["good"], out=taken)) == 2
    assert "results.csv: not a folder" in error_line(capsys)
    assert taken.read_text() == "mine"


def test_missing_checkpoint_exits_2(files, tmp_path, capsys):
    argv = args(files, files["good"], out=tmp_path)
    argv[argv.index("--checkpoint") + 1] = str(tmp_path / "nope.pt")
    assert main(argv) == 2
    assert "nope.pt" in error_line(capsys)


def test_a_csv_as_checkpoint_exits_2_naming_it(files, tmp_path, capsys):
    argv = args(files, files["good"], out=tmp_path / "out")
    argv[argv.index("--checkpoint") + 1] = str(files["good"])
    assert main(argv) == 2
    err = error_line(capsys)
    assert "cell.tsv: not a MIRO checkpoint" in err and "weights_only" not in err


def test_a_folder_as_input(files, tmp_path, capsys):
    folder = tmp_path / "cells"
    folder.mkdir()
    (folder / "cell.tsv").write_bytes(files["good"].read_bytes())
    assert main(args(files, folder, out=tmp_path / "out")) == 0
    assert (tmp_path / "out" / "cell.labels.csv").exists()


def test_missing_x_y_suggest_the_column_mapping(files, tmp_path, capsys):
    argv = [a for a in args(files, files["good"], out=tmp_path) if a not in ("x=X_nm", "y=Y_nm")]
    argv = [a for i, a in enumerate(argv) if not (a == "--column")]
    assert main(argv) == 2
    assert "--column x=X_nm --column y=Y_nm" in error_line(capsys)


def test_micrometres_are_refused_with_the_fix_and_accepted_with_unit(files, tmp_path, capsys):
    table = pd.read_csv(files["good"], sep="\t")
    table[["X_nm", "Y_nm"]] /= 1000
    path = tmp_path / "um.csv"
    table.to_csv(path, index=False)
    assert main(args(files, path, out=tmp_path / "out")) == 2
    err = error_line(capsys)
    assert "um.csv: coordinates do not look like nm" in err and "--unit um" in err
    assert main(args(files, path, out=tmp_path / "out", extra=("--unit", "um"))) == 0


def test_hdbscan_and_the_one_cluster_warning(files, tmp_path, capsys):
    extra = ("--baseline-eps", "3000", "--baseline-min-samples", "4")
    argv = args(files, files["good"], out=tmp_path, extra=extra)
    for flag in ("--eps", "--min-samples"):
        i = argv.index(flag)
        del argv[i : i + 2]
    argv += ["--clusterer", "hdbscan", "--min-cluster-size", "6"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "MIRO + HDBSCAN" in out
    assert "WARNING cell: one DBSCAN cluster holds" in out and "smaller eps" in out


def test_runs_as_a_module():
    done = subprocess.run(
        [sys.executable, "-m", "miro.applications.cli", "apply", "--help"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0 and "--checkpoint" in done.stdout
