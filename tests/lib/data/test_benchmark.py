import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from pooch import file_hash

from miro.data.benchmark import (
    FOLDERS,
    UPSTREAM_COMMIT,
    UPSTREAM_REPO,
    BenchmarkError,
    fetch_folder,
    fov_number,
    list_fovs,
    load_manifest,
)
from miro.data.cache import ChecksumError

FOLDER = "Ground Truth - Scenario 5"
FAST = {"retries": 1, "progress": False}


@dataclass
class Upstream:
    root: Path  # served folder with the upstream layout
    url: str
    server: object  # the http_server fixture: .requests, .failures
    manifest: pd.DataFrame  # rows of the served files only

    def served(self, name: str) -> Path:
        return self.root / FOLDER / name

    def requests_for(self, name: str) -> int:
        return self.server.requests.count(f"/{FOLDER}/{name}")


@pytest.fixture(scope="module")
def manifest(repo_root):
    return load_manifest(repo_root / "resources" / "benchmark_manifest.tsv")


@pytest.fixture
def upstream(http_server, benchmark_dir, manifest):
    """Three files of one benchmark folder, served over real HTTP on a free local port."""
    files = sorted((benchmark_dir / FOLDER).glob("*.csv"))[:3]
    (http_server.root / FOLDER).mkdir()
    for f in files:
        shutil.copy(f, http_server.root / FOLDER / f.name)
    rows = manifest[(manifest["folder"] == FOLDER) & manifest["file"].isin([f.name for f in files])]
    assert len(rows) == 3
    return Upstream(http_server.root, http_server.url, http_server, rows)


def fetch(upstream: Upstream, dest: Path, **kwargs) -> list[Path]:
    """fetch_folder of the served files from the test server (or ``local_dir``), fast retries."""
    kwargs = {"manifest": upstream.manifest, "base_url": upstream.url, **FAST, **kwargs}
    return fetch_folder(FOLDER, dest, **kwargs)


def corrupt(path: Path) -> None:
    """Flip one byte, keeping the size, so only the sha256 can tell."""
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def test_a_second_clone_with_the_same_cache_downloads_nothing(tmp_path, upstream, download_cache):
    first = fetch(upstream, tmp_path / "clone1" / "results")
    assert [p.parent for p in first] == [tmp_path / "clone1" / "results" / FOLDER] * 3
    assert [fov_number(p) for p in first] == sorted(fov_number(p) for p in first)
    assert len(upstream.server.requests) == 3
    second = fetch(upstream, tmp_path / "clone2" / "results")
    assert len(upstream.server.requests) == 3  # every file from the cache
    expected = upstream.manifest.set_index("file")
    entries = download_cache / UPSTREAM_REPO / UPSTREAM_COMMIT / FOLDER
    for one, two in zip(first, second, strict=True):
        assert one.read_bytes() == two.read_bytes() == upstream.served(one.name).read_bytes()
        assert file_hash(str(two)) == expected.at[two.name, "sha256"]
        assert not os.path.samefile(two, entries / two.name)  # results hold copies
    assert sorted(p.name for p in entries.iterdir()) == sorted(upstream.manifest["file"])


def test_a_corrupted_cache_entry_is_downloaded_again(tmp_path, upstream, download_cache):
    paths = fetch(upstream, tmp_path / "a")
    entry = download_cache / UPSTREAM_REPO / UPSTREAM_COMMIT / FOLDER / paths[1].name
    corrupt(entry)
    again = fetch(upstream, tmp_path / "b")
    assert again[1].read_bytes() == entry.read_bytes() == paths[1].read_bytes()
    assert upstream.requests_for(paths[1].name) == 2
    assert upstream.requests_for(paths[0].name) == upstream.requests_for(paths[2].name) == 1


def test_a_corrupted_download_names_the_file_and_the_url_and_leaves_nothing(
    tmp_path, upstream, download_cache
):
    name = upstream.manifest["file"].iloc[1]
    row = upstream.manifest.iloc[1]
    corrupt(upstream.served(name))
    dest = tmp_path / "dest"
    with pytest.raises(ChecksumError) as info:
        fetch(upstream, dest)
    message = str(info.value)
    assert f"{FOLDER}/{name} from {upstream.url}/Ground%20Truth%20-%20Scenario%205/" in message
    assert row["sha256"] in message and file_hash(str(upstream.served(name))) in message
    assert upstream.requests_for(name) == FAST["retries"] + 1
    for folder in (dest / FOLDER, download_cache / UPSTREAM_REPO / UPSTREAM_COMMIT / FOLDER):
        assert name not in {p.name for p in folder.iterdir()}
        assert not [p for p in folder.iterdir() if p.name not in set(upstream.manifest["file"])]


def test_server_errors_are_retried(tmp_path, upstream):
    upstream.server.failures = 1
    paths = fetch(upstream, tmp_path / "a")
    assert len(paths) == 3 and len(upstream.server.requests) == 3 + 1
    upstream.server.failures = 100
    with pytest.raises(BenchmarkError, match=r"503.*2 attempts.*local_copies") as info:
        fetch(upstream, tmp_path / "b", cache_dir=tmp_path / "empty-cache")
    assert f"{upstream.url}/Ground%20Truth%20-%20Scenario%205/" in str(info.value)


def test_missing_upstream_file_is_not_retried(tmp_path, upstream):
    name = upstream.manifest["file"].iloc[0]
    upstream.served(name).unlink()
    with pytest.raises(BenchmarkError, match=r"404.*1 attempt\)"):
        fetch(upstream, tmp_path)
    assert upstream.requests_for(name) == 1


def test_offline_without_local_copy_says_what_to_set(tmp_path, manifest, closed_port_url):
    url = closed_port_url
    with pytest.raises(BenchmarkError) as info:
        fetch_folder(FOLDER, tmp_path, manifest=manifest, base_url=url, retries=0)
    message = str(info.value)
    assert "local_copies: DIR" in message and "benchmark.local_dir" in message
    assert f"{url}/Ground%20Truth%20-%20Scenario%205/" in message
    assert not (tmp_path / FOLDER).exists() or not any((tmp_path / FOLDER).iterdir())


def test_local_copy_is_checked_and_copied_without_the_network(tmp_path, upstream, download_cache):
    dest = tmp_path / "dest"
    paths = fetch(upstream, dest, local_dir=upstream.root, base_url="http://unused")
    assert len(paths) == 3 and not upstream.server.requests
    assert not any(download_cache.iterdir())  # local copies bypass the cache
    for path in paths:
        assert not path.is_symlink()
        assert path.read_bytes() == upstream.served(path.name).read_bytes()
    name = paths[2].name
    corrupt(upstream.served(name))
    paths[2].unlink()
    with pytest.raises(ChecksumError, match=f"{name} does not match the manifest: expected"):
        fetch(upstream, dest, local_dir=upstream.root)
    assert not paths[2].exists()
    upstream.served(name).unlink()
    with pytest.raises(BenchmarkError, match=f"{name} is missing from the local benchmark copy"):
        fetch(upstream, dest, local_dir=upstream.root)
    assert not upstream.server.requests


@pytest.mark.benchmark_data
def test_shared_local_copy_matches_manifest(tmp_path, benchmark_dir, manifest):
    for folder in sorted(p.name for p in benchmark_dir.iterdir() if p.name in FOLDERS):
        paths = fetch_folder(folder, tmp_path, manifest=manifest, local_dir=benchmark_dir, **FAST)
        assert list(list_fovs(tmp_path / folder).values()) == paths
        assert [fov_number(p) for p in paths] == list(range(1, 51))


def test_unknown_or_unlisted_folder(tmp_path, manifest):
    with pytest.raises(
        ValueError, match=r"unknown benchmark folder.*'Multiple Blinking - Scenario 10'"
    ):
        fetch_folder("Ground Truth - Scenario 1", tmp_path, manifest=manifest)
    with pytest.raises(BenchmarkError, match="lists no files"):
        fetch_folder(FOLDER, tmp_path, manifest=manifest[manifest["folder"] != FOLDER])


def test_manifest_covers_every_folder_with_fovs_1_to_50(manifest):
    assert len(manifest) == 900 and set(manifest["folder"]) == set(FOLDERS)
    assert manifest["sha256"].str.fullmatch("[0-9a-f]{64}").all()
    for folder, rows in manifest.groupby("folder"):
        assert sorted(rows["file"].map(fov_number)) == list(range(1, 51)), folder


@pytest.mark.parametrize(
    ("name", "number"),
    [
        ("diffden_DetectionList1.csv", 1),
        ("highden_MoleculeList_12.csv", 12),
        ("normal_80single_new_MoleculeList_7.csv", 7),
        (Path("a/b3/normal_50_single_DetectionList_50.csv"), 50),
    ],
)
def test_fov_number(name, number):
    assert fov_number(name) == number


def test_fov_number_without_integer():
    with pytest.raises(ValueError, match="no FOV number"):
        fov_number("molecules.csv")


def test_list_fovs(tmp_path, benchmark_dir):
    fovs = list_fovs(benchmark_dir / "Multiple Blinking - Scenario 8")
    assert list(fovs) == list(range(1, 51))
    assert all(fov_number(p) == n for n, p in fovs.items())
    for name in ("a_2.csv", "a_10.csv", ".1234.tmp.a_3.csv", "notes.txt"):
        (tmp_path / name).write_text("x")
    assert list(list_fovs(tmp_path)) == [2, 10]
    (tmp_path / "b_10.csv").write_text("x")
    with pytest.raises(BenchmarkError, match="FOV 10 appears twice"):
        list_fovs(tmp_path)
    with pytest.raises(BenchmarkError, match="no CSV files"):
        list_fovs(tmp_path / "empty")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("folder\tfile\tbytes\nA\ta.csv\t3\n", r"lacks columns \['sha256'\]"),
        ("folder\tfile\tbytes\tsha256\nA\ta.csv\tmany\tab\n", "non-integer"),
        ("folder\tfile\tbytes\tsha256\nA\ta.csv\t3\tab\n", r"A/a\.csv needs .* 64 lowercase hex"),
        ("folder\tfile\tbytes\tsha256\nA\ta.csv\t-3\t" + "a" * 64 + "\n", "size >= 0"),
        ("folder\tfile\tbytes\tsha256\n" + ("A\ta.csv\t3\t" + "a" * 64 + "\n") * 2, "listed twice"),
        ("", "cannot read"),
    ],
)
def test_bad_manifest(tmp_path, text, message):
    path = tmp_path / "m.tsv"
    path.write_text(text)
    with pytest.raises(BenchmarkError, match=message) as info:
        load_manifest(path)
    assert str(path) in str(info.value)
