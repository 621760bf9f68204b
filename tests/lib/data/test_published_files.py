"""Tests for miro.data.published_files: the authors' files from a local copy with the upstream
layout or a download, the table of what their checkpoints do not store, and the reader of their
metadata files."""

from __future__ import annotations

import hashlib
import json

import pandas as pd
import pytest

from miro.data.cache import ChecksumError
from miro.data.published_files import (
    METADATA_PATH,
    PUBLISHED_COMMIT,
    PUBLISHED_REPO,
    PublishedError,
    authors_params,
    fetch_published,
    load_manifest,
    read_authors_dbscan,
    read_published_models,
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
    assert read_authors_dbscan(root / METADATA_PATH, GT8) == {"eps": 12.5, "min_samples": 9}


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
        read_authors_dbscan(path, GT8)
    assert str(err.value).startswith(f"{path}: ") and message in str(err.value)


def test_missing_metadata_names_the_file(tmp_path):
    with pytest.raises(PublishedError, match=r"missing\.json: no such file"):
        read_authors_dbscan(tmp_path / "missing.json", GT8)


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
    assert "local_copies: DIR" in message and "published.local_dir" in message
    assert PUBLISHED_COMMIT in message
    assert "published_file" not in message  # only checkpoints have a per-dataset file


def test_downloads_share_the_cache_of_every_clone(tmp_path, copy, http_server, download_cache):
    root, manifest = copy
    (http_server.root / METADATA_PATH).parent.mkdir(parents=True)
    (http_server.root / METADATA_PATH).write_bytes((root / METADATA_PATH).read_bytes())
    for clone in ("clone1", "clone2"):
        got = fetch_published(
            METADATA_PATH, tmp_path / clone / "m.json", manifest=manifest, base_url=http_server.url
        )
        assert got.read_bytes() == (root / METADATA_PATH).read_bytes()
    assert http_server.requests == [f"/{METADATA_PATH}"]  # the second clone: from the cache
    entry = download_cache / PUBLISHED_REPO / PUBLISHED_COMMIT / METADATA_PATH
    assert entry.read_bytes() == got.read_bytes()


def test_the_manifest_pins_the_metadata_file(repo_root):
    manifest = load_manifest(repo_root / "resources" / "published_checkpoints.tsv")
    row = manifest[manifest["path"] == METADATA_PATH]
    assert len(row) == 1 and int(row["bytes"].iloc[0]) == 9834
    assert row["sha256"].iloc[0].startswith("51470cdc") and row["sha256"].iloc[0].endswith(
        "0c11ce62"
    )


SINGLE_SHOT = {  # path -> (bytes, sha256 prefix), ../shared/weights/README.md
    "single-shot/metadata.json": (1277, "5aaad905"),
    "single-shot/data/training_cluster_scenario_5.csv": (653, "25925ce7"),
    "single-shot/data/training_cluster_scenario_6.csv": (2129, "69bcc3c4"),
}


def test_the_manifest_pins_the_single_shot_files(repo_root):
    manifest = load_manifest(repo_root / "resources" / "published_checkpoints.tsv")
    rows = manifest.set_index("path")
    for path, (size, prefix) in SINGLE_SHOT.items():
        assert rows.loc[path, "bytes"] == size and rows.loc[path, "sha256"].startswith(prefix)


def test_single_shot_metadata_from_the_local_copy(tmp_path, weights_dir, repo_root):
    manifest = load_manifest(repo_root / "resources" / "published_checkpoints.tsv")
    for path in SINGLE_SHOT:  # verified against the manifest
        fetch_published(path, tmp_path / path, manifest=manifest, local_dir=weights_dir)
    metadata = tmp_path / "single-shot" / "metadata.json"
    s5 = "Ground Truth - Scenario 5"
    assert read_authors_dbscan(metadata, s5) == {"eps": 26.0, "min_samples": 13}
    assert read_authors_dbscan(metadata, s5, "DBSCAN_params") == {"eps": 35.0, "min_samples": 8}
    models = read_published_models(
        repo_root / "resources" / "published_models.tsv",
        repo_root / "resources" / "benchmark_settings.csv",
    )
    entries = json.loads(metadata.read_text())
    for model in models.values():  # the table agrees with the authors' settings
        if model.metadata == "single-shot/metadata.json":
            entry = entries[model.folder]
            assert "single-shot/" + entry["checkpoint"] == model.path
            assert entry["recurrent_iterations"] == model.steps
            assert entry["builder_kwargs"]["connectivity_radius"] == model.radius
    with pytest.raises(PublishedError, match=r"'Ground Truth - Scenario 8' \(it has 2: "):
        read_authors_dbscan(metadata, GT8)


def test_benchmark_models_agree_with_the_authors_metadata(weights_dir, repo_root):
    entries = json.loads((weights_dir / METADATA_PATH).read_text())
    models = read_published_models(
        repo_root / "resources" / "published_models.tsv",
        repo_root / "resources" / "benchmark_settings.csv",
    )
    benchmark = [m for m in models.values() if m.kind == "benchmark"]
    assert len(benchmark) == 18
    for model in benchmark:
        entry = entries[model.folder]
        assert "benchmark/" + entry["checkpoint"] == model.path
        assert (entry["recurrent_iterations"], model.fov_nm) == (model.steps, 2000.0)
        assert entry["builder_kwargs"]["connectivity_radius"] == model.radius


def test_authors_params_from_metadata_or_as_given(copy):
    root, _ = copy
    spec = {"metadata": METADATA_PATH, "folder": GT8, "params": "MIRO_DBSCAN_params"}
    got = authors_params(spec, root / METADATA_PATH)
    assert (got["eps"], got["min_samples"]) == (12.5, 9)
    assert got["source"] == (
        f"published (DeepTrackAI/MIRO@{PUBLISHED_COMMIT[:8]} {METADATA_PATH}, "
        f"'{GT8}'.MIRO_DBSCAN_params)"
    )
    with pytest.raises(PublishedError, match=rf"'{GT8}'.DBSCAN_params.min_samples: None"):
        authors_params(spec | {"params": "DBSCAN_params"}, root / METADATA_PATH)
    fixed = {"eps": 83.2, "min_samples": 5, "source": "published (the authors' code)"}
    assert authors_params(fixed, None) == fixed


HEADER = "path\tkind\tfolder\tsteps\tk_star\tradius\tclasses\tfov_nm\tmetadata\t"
HEADER += "dbscan_eps_normalized\tdbscan_min_samples\n"


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("m.pt\tshape\t\t20\t\t0.2\t\t\t\t\t", "m.pt: kind 'shape' is not one of benchmark"),
        ("m.pt\tmultiscale\t\tmany\t\t0.2\t\t\t\t\t", "m.pt: steps 'many' is not a positive"),
        ("m.pt\tmultiscale\t\t20\t20\t0.2\t\t\t\t\t", "m.pt: k_star 20 >= steps 20"),
        ("m.pt\tmultiscale\t\t20\t\t-1\t\t\t\t\t", "m.pt: radius '-1' is not a positive"),
        ("m.pt\tmultishape\t\t20\t\t0.2\tspot\t\t\t\t", "a class head needs 2 or more"),
        ("m.pt\tsingle-shot\tX\t15\t\t0.1\t\t\t\t\t", "give both folder and metadata"),
        ("m.pt\tmultishape\t\t20\t\t0.2\t\t\t\t0.01\t", "give both dbscan_eps_normalized"),
        (
            "benchmark/models/model_scenario_8.pt\tbenchmark\t\t12\t\t0.2\t\t\t\t\t",
            "benchmark/models/model_scenario_8.pt is listed twice",
        ),
    ],
)
def test_model_table_errors_name_the_file_and_the_row(tmp_path, repo_root, row, message):
    table = tmp_path / "published_models.tsv"
    table.write_text(HEADER + row + "\n")
    with pytest.raises(PublishedError, match=message) as err:
        read_published_models(table, repo_root / "resources" / "benchmark_settings.csv")
    assert str(err.value).startswith(f"{table}: ")
