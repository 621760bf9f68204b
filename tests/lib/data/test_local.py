"""Tests for miro.data.local: a folder of the user's annotated localization files as a dataset,
and rule obtain's script on it (every file checked before any FOV file is written)."""

from __future__ import annotations

import runpy
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from miro.data.fovs import fov_index, load_fovs
from miro.data.local import (
    LocalDataError,
    extent_warnings,
    fov_summary,
    local_files,
    natural_key,
    read_annotated,
    read_local,
    train_fov_numbers,
)
from miro.data.simulate import simulate_fov

SCRIPTS = Path(__file__).resolve().parents[3] / "workflow" / "scripts"


def annotated_fov(seed: int) -> pd.DataFrame:
    """A simulated benchmark-like FOV (2 µm, clusters + background) with cluster ids."""
    return simulate_fov("benchmark", seed, scenario=8, blinking=False)


def write_thunderstorm(frame: pd.DataFrame, path: Path, label: str | None = "cluster_id") -> Path:
    """``frame`` as a ThunderSTORM export (x [nm], y [nm], frame, uncertainty [nm]) with the
    cluster ids added as column ``label`` (none when None)."""
    out = pd.DataFrame(
        {
            "id": np.arange(1, len(frame) + 1),
            "frame": np.arange(len(frame)) // 7 + 1,
            "x [nm]": frame["x"],
            "y [nm]": frame["y"],
            "uncertainty [nm]": 10.0,
        }
    )
    if label is not None:
        out[label] = frame["index"].to_numpy()
    out.to_csv(path, index=False)
    return path


def test_files_are_numbered_in_natural_name_order(tmp_path):
    for name in ("fov10.csv", "fov2.csv", "FOV1.csv", ".hidden.csv", "notes.txt"):
        (tmp_path / name).write_text("x,y\n")
    (tmp_path / "sub.csv").mkdir()
    files = local_files(tmp_path, "*.csv")
    assert {n: p.name for n, p in files.items()} == {1: "FOV1.csv", 2: "fov2.csv", 3: "fov10.csv"}
    assert [p.name for p in local_files(tmp_path, "*").values()] == [
        "FOV1.csv",
        "fov2.csv",
        "fov10.csv",
        "notes.txt",
    ]
    assert local_files(tmp_path / "absent", "*.csv") == {}
    assert sorted(["b2", "a10", "a9"], key=natural_key) == ["a9", "a10", "b2"]


def test_training_files_by_name_with_or_without_extension(tmp_path):
    files = {1: tmp_path / "cell_a.csv", 2: tmp_path / "cell_b.csv", 3: tmp_path / "cell_c.tsv"}
    assert train_fov_numbers(files, ["cell_c.tsv", "cell_a"]) == [1, 3]
    with pytest.raises(ValueError, match=r"\['cell_d'\] are not"):
        train_fov_numbers(files, ["cell_a", "cell_d"])
    twins = {1: tmp_path / "a.csv", 2: tmp_path / "a.tsv"}
    with pytest.raises(ValueError, match="exactly one"):
        train_fov_numbers(twins, ["a"])  # the stem names two files
    assert train_fov_numbers(twins, ["a.tsv"]) == [2]


def test_read_annotated_takes_the_label_column_of_any_format(tmp_path):
    frame = annotated_fov(1)
    path = write_thunderstorm(frame, tmp_path / "fov.csv")
    fov = read_annotated(path, label_column="cluster_id")
    assert list(fov.columns) == ["x", "y", "index"] and fov["index"].dtype == np.int64
    np.testing.assert_array_equal(fov[["x", "y"]].to_numpy(), frame[["x", "y"]].to_numpy())
    np.testing.assert_array_equal(fov["index"].to_numpy(), frame["index"].to_numpy())

    generic = tmp_path / "generic.tsv"
    frame.rename(columns={"x": "X_nm", "y": "Y_nm", "index": "cluster"}).to_csv(
        generic, sep="\t", index=False
    )
    mapped = read_annotated(
        generic, fmt="generic", columns={"x": "X_nm", "y": "Y_nm"}, label_column="cluster"
    )
    pd.testing.assert_frame_equal(mapped, fov)


def test_read_local_reports_every_bad_file_at_once(tmp_path):
    good = write_thunderstorm(annotated_fov(1), tmp_path / "a_good.csv")
    unlabelled = write_thunderstorm(annotated_fov(2), tmp_path / "b_unlabelled.csv", label=None)
    negative = annotated_fov(3)
    negative.loc[5, "index"] = -1
    negative = write_thunderstorm(negative, tmp_path / "c_negative.csv")
    fractional = annotated_fov(4).astype({"index": float})
    fractional.loc[2, "index"] = 1.5
    fractional = write_thunderstorm(fractional, tmp_path / "d_fractional.csv")
    empty = tmp_path / "e_empty.csv"
    empty.write_text("")
    files = dict(enumerate([good, unlabelled, negative, fractional, empty], start=1))
    with pytest.raises(LocalDataError) as caught:
        read_local(files, label_column="cluster_id")
    lines = str(caught.value).splitlines()
    assert lines[0] == "4 problem(s) with the annotated files:"
    assert f"{unlabelled}: missing columns" in lines[1] and "cluster_id" in lines[1]
    assert f"{negative}: column 'cluster_id' must hold a non-negative integer" in lines[2]
    assert "data row 6 has" in lines[2] and "-1" in lines[2]
    assert f"{fractional}: column 'cluster_id'" in lines[3] and "1.5" in lines[3]
    assert f"{empty}: file is empty" in lines[4]
    assert str(good) not in str(caught.value)
    assert set(read_local({1: good, 2: good}, label_column="cluster_id")) == {1, 2}


def test_read_local_needs_an_annotated_cluster(tmp_path):
    frame = annotated_fov(1).assign(index=0)
    files = {1: write_thunderstorm(frame, tmp_path / "fov1.csv")}
    with pytest.raises(LocalDataError, match=r"no file has an annotated cluster \('cluster_id'"):
        read_local(files, label_column="cluster_id")


def test_summary_and_extent_warnings_name_odd_fovs():
    rng = np.random.default_rng(0)

    def fov(width: float, height: float) -> pd.DataFrame:
        xy = rng.uniform(0, 1, (200, 2)) * [width, height]
        xy[:2] = [[0, 0], [width, height]]  # the extent is exactly width x height
        return pd.DataFrame({"x": xy[:, 0], "y": xy[:, 1], "index": np.repeat([0, 1], 100)})

    frames = {1: fov(2000, 2000), 2: fov(2000, 1000), 3: fov(2000, 2000), 4: fov(3000, 3000)}
    summary = fov_summary(frames)
    assert list(summary["clusters"]) == [1, 1, 1, 1]
    assert summary["clustered_fraction"].tolist() == [0.5] * 4
    assert summary.loc[1, ["width_nm", "height_nm"]].tolist() == [2000, 1000]
    warnings = extent_warnings(summary, {n: f"f{n}.csv" for n in frames})
    assert len(warnings) == 2
    assert warnings[0].startswith("FOV 2 (f2.csv, 2000 x 1000 nm) is not square")
    assert warnings[1].startswith("FOV 4 (f4.csv, 3000 x 3000 nm) differs from the median")
    assert extent_warnings(summary.loc[[0, 2]], {1: "f1.csv", 3: "f3.csv"}) == []


def run_obtain(tmp_path: Path, inputs: list[Path], **local) -> Path:
    """Rule obtain's script on a local dataset, as Snakemake runs it; returns the FOV folder."""
    out = tmp_path / "results" / "Mine" / "data" / "fovs"
    settings = {"format": "auto", "columns": None, "label_column": "cluster_id", **local}
    snakemake = SimpleNamespace(
        params=SimpleNamespace(dataset={"source": "local", "local": settings}, manifest="-"),
        input=SimpleNamespace(files=[str(p) for p in inputs]),
        output=[str(out)],
        log=[str(tmp_path / "obtain.log")],
        config={},
    )
    runpy.run_path(str(SCRIPTS / "obtain.py"), init_globals={"snakemake": snakemake})
    return out


def test_obtain_writes_the_annotated_files_as_fov_files(tmp_path):
    folder = tmp_path / "annotated"
    folder.mkdir()
    frames = {n: annotated_fov(n) for n in (1, 2, 3)}
    frames[3] = frames[3][frames[3]["x"] < 1000]  # half a FOV: not square
    paths = [write_thunderstorm(frames[n], folder / f"cell_{n}.csv") for n in frames]
    out = run_obtain(tmp_path, paths)
    assert {n: p.name for n, p in fov_index(out).items()} == {
        1: "cell_1.csv",
        2: "cell_2.csv",
        3: "cell_3.csv",
    }
    for number, fov in load_fovs(out).items():
        assert list(fov.columns) == ["x", "y", "index"]
        expected = frames[number].reset_index(drop=True)
        np.testing.assert_array_equal(fov[["x", "y"]].to_numpy(), expected[["x", "y"]].to_numpy())
        np.testing.assert_array_equal(fov["index"].to_numpy(), expected["index"].to_numpy())
    log = (tmp_path / "obtain.log").read_text()
    assert "3 annotated FOVs" in log and str(paths[0]) in log
    assert "WARNING" in log and "FOV 3 (cell_3.csv" in log and "not square" in log


def test_obtain_writes_nothing_when_a_file_is_bad(tmp_path):
    good = write_thunderstorm(annotated_fov(1), tmp_path / "good.csv")
    bad = write_thunderstorm(annotated_fov(2), tmp_path / "bad.csv", label="cluster")
    with pytest.raises(LocalDataError, match=f"{bad}: missing columns"):
        run_obtain(tmp_path, [good, bad])
    fovs_parent = tmp_path / "results" / "Mine" / "data"
    assert list(fovs_parent.iterdir()) == []  # no FOV folder, no temporary folder
    assert "bad.csv: missing columns" in (tmp_path / "obtain.log").read_text()
