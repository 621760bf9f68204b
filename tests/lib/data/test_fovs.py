import time

import numpy as np
import pandas as pd
import pytest

from miro.data.fovs import (
    fov_index,
    ground_truth,
    load_fovs,
    read_per_fov,
    staged_dir,
    write_fov_dir,
    write_per_fov,
)


def _write_fov(path, n=10, seed=0):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"x": rng.uniform(0, 100, n), "y": rng.uniform(0, 100, n), "index": 0})
    frame.to_csv(path, index=False)
    return frame


def test_fov_dir_round_trip(tmp_path):
    out = tmp_path / "fovs"
    with staged_dir(out) as tmp:
        assert tmp.parent == tmp_path and not out.exists()
        frames = {n: _write_fov(tmp / f"f_{n}.csv", seed=n) for n in (1, 7)}
        write_fov_dir({n: tmp / f"f_{n}.csv" for n in frames}, tmp)
    assert [p.name for p in tmp_path.iterdir()] == ["fovs"]
    assert sorted(fov_index(out)) == [1, 7]
    loaded = load_fovs(out, [7])
    np.testing.assert_allclose(loaded[7]["x"], frames[7]["x"])
    with pytest.raises(ValueError, match=r"\[3\]"):
        load_fovs(out, [3])


def test_missing_index_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="index"):
        fov_index(tmp_path)


def test_per_fov_round_trip(tmp_path):
    values = {2: np.arange(6.0).reshape(3, 2), 1: np.ones((2, 2))}
    write_per_fov(values, ["x", "y"], tmp_path / "s.csv.gz")
    back = read_per_fov(tmp_path / "s.csv.gz", ["x", "y"])
    assert list(back) == [1, 2]
    np.testing.assert_array_equal(back[2], values[2])
    labels = {1: np.array([0, 1, 1])}
    write_per_fov(labels, ["label"], tmp_path / "l.csv.gz")
    assert read_per_fov(tmp_path / "l.csv.gz", ["label"])[1].tolist() == [0, 1, 1]
    with pytest.raises(ValueError, match="missing columns"):
        read_per_fov(tmp_path / "l.csv.gz", ["x"])


def test_ground_truth_names_the_fov_when_the_column_is_missing():
    frame = pd.DataFrame({"x": [0.0, 1.0], "y": [0.0, 1.0], "index": [0, 3]})
    assert ground_truth(frame, "index", "fovs/ FOV 2").tolist() == [0, 3]
    with pytest.raises(ValueError, match="fovs/ FOV 2: no ground-truth column 'index_coarse'"):
        ground_truth(frame, "index_coarse", "fovs/ FOV 2")


def test_staged_dir_leaves_nothing_on_failure_and_replaces_on_success(tmp_path):
    out = tmp_path / "fovs"
    out.mkdir()
    (out / "old.csv").write_text("old")
    (tmp_path / ".fovs.tmp-killed").mkdir()  # left by a run that was killed
    (tmp_path / ".fovs.tmp-killed" / "big.csv").write_text("x" * 1000)
    with pytest.raises(RuntimeError, match="download failed"), staged_dir(out) as tmp:
        (tmp / "half.csv").write_text("half")
        raise RuntimeError("download failed")
    assert [p.name for p in tmp_path.iterdir()] == ["fovs"]  # stale and failed temps removed
    assert [p.name for p in out.iterdir()] == ["old.csv"]  # the old output untouched
    with staged_dir(out) as tmp:
        (tmp / "new.csv").write_text("new")
    assert [p.name for p in tmp_path.iterdir()] == ["fovs"]
    assert [p.name for p in out.iterdir()] == ["new.csv"]


def test_per_fov_files_are_byte_reproducible(tmp_path):
    values = {3: np.array([[0.125, 7.0], [1e-7, 2.5]]), 1: np.zeros((1, 2))}
    write_per_fov(values, ["x", "y"], tmp_path / "a.csv.gz")
    time.sleep(1.1)  # a gzip header with a timestamp would differ now
    write_per_fov(dict(values), ["x", "y"], tmp_path / "b.csv.gz")
    first = (tmp_path / "a.csv.gz").read_bytes()
    assert first == (tmp_path / "b.csv.gz").read_bytes()
    assert b".tmp." not in first  # no temporary file name in the gzip header
