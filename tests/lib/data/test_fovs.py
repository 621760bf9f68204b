import numpy as np
import pandas as pd
import pytest

from miro.data.fovs import (
    fov_index,
    ground_truth,
    load_fovs,
    publish_dir,
    read_per_fov,
    write_fov_dir,
    write_per_fov,
)


def _write_fov(path, n=10, seed=0):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"x": rng.uniform(0, 100, n), "y": rng.uniform(0, 100, n), "index": 0})
    frame.to_csv(path, index=False)
    return frame


def test_fov_dir_round_trip(tmp_path):
    tmp = tmp_path / ".partial"
    tmp.mkdir()
    frames = {n: _write_fov(tmp / f"f_{n}.csv", seed=n) for n in (1, 7)}
    write_fov_dir({n: tmp / f"f_{n}.csv" for n in frames}, tmp)
    out = tmp_path / "fovs"
    publish_dir(tmp, out)
    assert not tmp.exists()
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
