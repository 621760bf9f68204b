import json

import pytest

from miro.data.split import example_fov, read_split, split_fovs, write_split

FOVS = range(1, 51)


def test_random_split_is_seeded_partition():
    split = split_fovs(FOVS, n_train=3, seed=7)
    assert len(split["train"]) == 3 and len(split["test"]) == 47
    assert sorted(split["train"] + split["test"]) == list(FOVS)
    assert split["train"] == sorted(split["train"]) and split["test"] == sorted(split["test"])
    assert split_fovs(reversed(FOVS), n_train=3, seed=7) == split
    others = {tuple(split_fovs(FOVS, seed=s)["train"]) for s in range(10)}
    assert len(others) > 1  # the seed matters


def test_given_train_fovs_are_used():
    split = split_fovs(FOVS, train_fovs=[32, 19, 46], seed=123)
    assert split["train"] == [19, 32, 46] and len(split["test"]) == 47


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_train": 0}, "n_train must be between 1 and"),
        ({"n_train": 50}, "n_train must be between 1 and"),
        ({"train_fovs": [1, 2, 51]}, r"training FOVs \[51\] are not among"),
        ({"train_fovs": [1, 1, 2]}, "must be distinct"),
        ({"train_fovs": []}, "at least one"),
        ({"train_fovs": list(FOVS)}, "leave at least one"),
    ],
)
def test_split_rejects_bad_requests(kwargs, message):
    with pytest.raises(ValueError, match=message):
        split_fovs(FOVS, **kwargs)


def test_split_rejects_duplicate_fovs():
    with pytest.raises(ValueError, match="distinct"):
        split_fovs([1, 2, 2, 3])


def test_write_read_round_trip(tmp_path):
    split = split_fovs(FOVS, seed=3)
    path = write_split(split, tmp_path / "out" / "split.json")
    assert read_split(path) == split
    assert json.loads(path.read_text()) == split
    assert [p.name for p in path.parent.iterdir()] == ["split.json"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "cannot read"),
        ('{"train": [1]}', "needs the keys"),
        ('{"train": [], "test": [2]}', "'train' must be a non-empty list"),
        ('{"train": [1, 1], "test": [2]}', "'train' must be a non-empty list of distinct"),
        ('{"train": [1], "test": ["2"]}', "'test' must be a non-empty list"),
        ('{"train": [1], "test": [true]}', "'test' must be a non-empty list"),
        ('{"train": [1, 2], "test": [2, 3]}', r"FOVs \[2\] are in both"),
        ("[1, 2]", "needs the keys"),
    ],
)
def test_read_split_rejects_bad_files(tmp_path, content, message):
    path = tmp_path / "split.json"
    path.write_text(content)
    with pytest.raises(ValueError, match=message) as info:
        read_split(path)
    assert str(path) in str(info.value)


def test_read_missing_split(tmp_path):
    with pytest.raises(ValueError, match="cannot read"):
        read_split(tmp_path / "none.json")


def test_write_split_refuses_bad_split_and_keeps_nothing(tmp_path):
    with pytest.raises(ValueError, match="in both"):
        write_split({"train": [1, 2], "test": [2]}, tmp_path / "s.json")
    assert list(tmp_path.iterdir()) == []


def test_example_fov_is_the_wanted_test_fov_or_the_first(tmp_path):
    path = write_split({"train": [2, 5], "test": [1, 3, 4]}, tmp_path / "split.json")
    assert example_fov(path, None) == 1 and example_fov(path, 4) == 4
    with pytest.raises(ValueError, match="example_fov 2 is not a test FOV"):
        example_fov(path, 2)
