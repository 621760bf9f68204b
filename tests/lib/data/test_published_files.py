"""Tests for miro.data.published_files: the authors' files from a local copy with the upstream
layout or a download, and the reader of their benchmark/metadata.json."""

from __future__ import annotations

import hashlib
import json

import pandas as pd
import pytest

from miro.data.benchmark import ChecksumError
from miro.data.published_files import (
    METADATA_PATH,
    PUBLISHED_COMMIT,
    PublishedError,
    fetch_published,
    load_manifest,
    read_miro_dbscan,
)

GT8 = "Ground Truth - Scenario 8"
MB8 = "Multiple Blinking - Scenario 8"


def write_metadata(path, metadata) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(metadata if isinstance(metadata, str) else json.dumps(metadata))


def manifest_for(tmp_path, file, path_in_repo: str) -> pd.DataFrame:
    digest = hashlib.sha256(file.read_bytes()).hexdigest()
    tsv = tmp_path / "manifest.tsv"
    tsv.write_text(f"path\tbytes\tsha256\n{path_in_repo}\t{file.stat().st_size}\t{digest}\n")
    return load_manifest(tsv)


@pytest.fixture
def copy(tmp_path):
    """A local copy with the upstream layout holding a metadata file, and its manifest."""
    root = tmp_path / "weights"
    entry = {"MIRO_DBSCAN_params": {"eps": 12.5, "min_samples": 9}, "DBSCAN_params": {"eps": 60}}
    write_metadata(root / METADATA_PATH, {GT8: entry})
    return root, manifest_for(tmp_path, root / METADATA_PATH, METADATA_PATH)


def test_reads_the_folders_miro_dbscan_parameters(copy):
    root, _ = copy
    assert read_miro_dbscan(root / METADATA_PATH, GT8) == {"eps": 12.5, "min_samples": 9}


@pytest.mark.parametrize(
    ("metadata", "message"),
    [
        ("{not json", "not a JSON file"),
        ([1, 2], "expected an object keyed by benchmark folder, got list"),
        ({MB8: {}}, f"no entry for benchmark folder '{GT8}' (it has 1: {MB8})"),
        ({GT8: {"DBSCAN_params": {}}}, f"'{GT8}'.MIRO_DBSCAN_params: missing or not an object"),
        ({GT8: {"MIRO_DBSCAN_params": {"min_samples": 5}}}, "MIRO_DBSCAN_params.eps: None is"),
        ({GT8: {"MIRO_DBSCAN_params": {"eps": "12", "min_samples": 5}}}, "eps: '12' is not a"),
        ({GT8: {"MIRO_DBSCAN_params": {"eps": -1, "min_samples": 5}}}, "eps: -1 is not positive"),
        ({GT8: {"MIRO_DBSCAN_params": {"eps": 9, "min_samples": 2.5}}}, "min_samples: 2.5 is not"),
        ({GT8: {"MIRO_DBSCAN_params": {"eps": 9, "min_samples": True}}}, "min_samples: True is"),
    ],
)
def test_layout_errors_name_the_file_and_the_key(tmp_path, metadata, message):
    path = tmp_path / "metadata.json"
    write_metadata(path, metadata)
    with pytest.raises(PublishedError) as err:
        read_miro_dbscan(path, GT8)
    assert str(err.value).startswith(f"{path}: ") and message in str(err.value)


def test_missing_metadata_names_the_file(tmp_path):
    with pytest.raises(PublishedError, match=r"missing\.json: no such file"):
        read_miro_dbscan(tmp_path / "missing.json", GT8)


def test_local_dir_with_the_upstream_layout_is_verified(tmp_path, copy):
    root, manifest = copy
    got = fetch_published(METADATA_PATH, tmp_path / "out.json", manifest=manifest, local_dir=root)
    assert got.read_bytes() == (root / METADATA_PATH).read_bytes()
    (root / METADATA_PATH).write_text((root / METADATA_PATH).read_text().replace("12.5", "13.5"))
    with pytest.raises(ChecksumError, match=r"metadata\.json"):
        fetch_published(METADATA_PATH, tmp_path / "bad.json", manifest=manifest, local_dir=root)
    with pytest.raises(PublishedError, match=r"published\.local_dir = .*upstream layout"):
        fetch_published(METADATA_PATH, tmp_path / "x", manifest=manifest, local_dir=tmp_path / "e")
    assert not (tmp_path / "bad.json").exists() and not (tmp_path / "x").exists()


def test_offline_without_a_local_copy_names_the_url_and_the_setting(
    tmp_path, copy, closed_port_url
):
    url = closed_port_url
    with pytest.raises(PublishedError) as err:
        fetch_published(
            METADATA_PATH, tmp_path / "m.json", manifest=copy[1], base_url=url, retries=0
        )
    message = str(err.value)
    assert f"cannot download {url}/{METADATA_PATH}" in message
    assert "published.local_dir" in message and PUBLISHED_COMMIT in message
    assert "published_file" not in message  # only checkpoints have a per-dataset file


def test_the_manifest_pins_the_metadata_file(repo_root):
    manifest = load_manifest(repo_root / "resources" / "published_checkpoints.tsv")
    row = manifest[manifest["path"] == METADATA_PATH]
    assert len(row) == 1 and int(row["bytes"].iloc[0]) == 9834
    assert row["sha256"].iloc[0].startswith("51470cdc") and row["sha256"].iloc[0].endswith(
        "0c11ce62"
    )
