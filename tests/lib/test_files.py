"""Tests for miro.files: atomic writes that leave nothing behind, byte-reproducible gzip CSVs."""

from __future__ import annotations

import gzip
import time

import numpy as np
import pandas as pd
import pytest
import torch

from miro.files import (
    atomic_path,
    fingerprint,
    write_csv_atomic,
    write_csv_gz_atomic,
    write_text_atomic,
    write_torch_atomic,
)


def test_write_csv_atomic_round_trips_and_leaves_no_temp(tmp_path):
    df = pd.DataFrame({"x": [1.25, 2.5], "y": [0.1, 1e-9], "label": [0, 3]})
    out = write_csv_atomic(df, tmp_path / "sub" / "out.csv")
    pd.testing.assert_frame_equal(pd.read_csv(out), df)
    assert [p.name for p in (tmp_path / "sub").iterdir()] == ["out.csv"]


def test_atomic_path_keeps_old_file_on_failure(tmp_path):
    target = tmp_path / "fig.png"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError, match="boom"), atomic_path(target) as tmp:
        assert tmp.parent == tmp_path and tmp.name.endswith(".fig.png")
        tmp.write_bytes(b"half")
        raise RuntimeError("boom")
    assert target.read_bytes() == b"old"
    assert list(tmp_path.iterdir()) == [target]
    with atomic_path(target) as tmp:
        tmp.write_bytes(b"new")
        assert target.read_bytes() == b"old"  # not visible before the block ends
    assert target.read_bytes() == b"new" and list(tmp_path.iterdir()) == [target]


def test_gzip_csv_is_byte_reproducible_and_names_no_temp_file(tmp_path):
    df = pd.DataFrame({"fov": [1, 1, 2], "x": [0.5, 1.5, 2.25]})
    first = write_csv_gz_atomic(df, tmp_path / "a.csv.gz").read_bytes()
    time.sleep(1.1)  # a gzip header with a timestamp would differ now
    second = write_csv_gz_atomic(df, tmp_path / "b.csv.gz").read_bytes()
    assert first == second
    assert b".tmp." not in first and b"a.csv" not in first  # no file name in the header
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "a.csv.gz"), df)
    assert gzip.decompress(first).decode().startswith("fov,x\n")


def test_write_text_atomic(tmp_path):
    out = write_text_atomic(tmp_path / "t" / "table.md", "| a |\n")
    assert out.read_text() == "| a |\n" and [p.name for p in out.parent.iterdir()] == ["table.md"]


def test_successful_write_removes_temporaries_of_killed_writers(tmp_path):
    target = tmp_path / "chunk_0.pt"
    stale = tmp_path / ".0badc0de.tmp.chunk_0.pt"  # a writer killed before it could clean up
    stale.write_bytes(b"x" * 10_000)
    other = tmp_path / ".0badc0de.tmp.chunk_1.pt"  # another target's: not ours to remove
    other.write_bytes(b"y")
    unrelated = tmp_path / "notes.tmp.chunk_0.pt"
    unrelated.write_bytes(b"z")
    with atomic_path(target) as tmp:
        tmp.write_bytes(b"new")
    assert target.read_bytes() == b"new"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [target.name, other.name, unrelated.name]
    )


def test_torch_files_are_byte_reproducible(tmp_path):
    obj = {"w": torch.arange(6.0).reshape(2, 3), "history": [{"epoch": 1}]}
    first = write_torch_atomic(obj, tmp_path / "a.pt").read_bytes()
    second = write_torch_atomic({**obj}, tmp_path / "b.pt").read_bytes()
    assert first == second and b".tmp." not in first
    assert torch.equal(torch.load(tmp_path / "a.pt")["w"], obj["w"])


def test_fingerprint_sees_content_dtype_shape_and_order():
    a, b = np.arange(6.0), np.ones(3, np.int64)
    base = fingerprint([a, b, "x"])
    assert base == fingerprint([a.copy(), torch.ones(3, dtype=torch.int64), "x"])
    changed = a.copy()
    changed[5] += 1e-9
    assert (
        len(
            {
                base,
                fingerprint([changed, b, "x"]),
                fingerprint([a.astype(np.float32), b, "x"]),
                fingerprint([a.reshape(2, 3), b, "x"]),
                fingerprint([b, a, "x"]),
                fingerprint([a, b, "y"]),
                fingerprint([a, b]),
            }
        )
        == 7
    )
