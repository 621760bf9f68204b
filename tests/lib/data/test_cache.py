"""Tests for miro.data.cache: one verified download cache shared by clones, data and weights."""

from __future__ import annotations

import hashlib
import logging
import threading
from pathlib import Path

import pooch
import pytest

from miro.data.cache import (
    ChecksumError,
    DownloadError,
    cache_root,
    cached,
    check_file,
    place,
)
from miro.runlog import script_logging

REPO, COMMIT = "owner/repo", "0123abcd" * 5
DATA = b"x,y,index\n" + b"1.5,2.5,0\n" * 5000


@pytest.fixture
def served(http_server) -> tuple[object, str, str]:
    """``data/a b.csv`` on the test server: (server, path in the repository, sha256)."""
    path = "data/a b.csv"
    (http_server.root / "data").mkdir()
    (http_server.root / path).write_bytes(DATA)
    return http_server, path, hashlib.sha256(DATA).hexdigest()


def fetch(server, path, sha256, **kwargs) -> Path:
    kwargs = {"repo": REPO, "commit": COMMIT, "base_url": server.url, "retries": 1, **kwargs}
    return cached(path, sha256, **kwargs)


def test_cache_root_is_the_config_then_the_environment_then_the_os_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("MIRO_CACHE", str(tmp_path / "env"))
    assert cache_root(tmp_path / "config") == tmp_path / "config"
    assert cache_root(None) == tmp_path / "env"
    monkeypatch.delenv("MIRO_CACHE")
    assert cache_root() == Path(pooch.os_cache("miro-workflow"))
    monkeypatch.setenv("HOME", str(tmp_path))
    assert cache_root("~/c") == tmp_path / "c"


def test_files_are_kept_under_the_pinned_commit_and_reused(served, download_cache):
    server, path, sha256 = served
    got = fetch(server, path, sha256)
    assert got == download_cache / REPO / COMMIT / path and got.read_bytes() == DATA
    assert server.requests == ["/data/a b.csv"]
    assert fetch(server, path, sha256, base_url="http://127.0.0.1:9") == got  # no network
    assert server.requests == ["/data/a b.csv"]


def test_a_truncated_cache_entry_is_replaced(served, download_cache):
    server, path, sha256 = served
    entry = fetch(server, path, sha256)
    entry.write_bytes(DATA[:100])
    assert fetch(server, path, sha256).read_bytes() == DATA
    assert len(server.requests) == 2


def test_concurrent_jobs_get_complete_verified_files(served, download_cache):
    server, path, sha256 = served
    results, errors = [], []

    def job():
        try:
            results.append(fetch(server, path, sha256).read_bytes())
        except Exception as err:  # reported below
            errors.append(err)

    threads = [threading.Thread(target=job) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and results == [DATA] * 6
    assert [p.name for p in (download_cache / REPO / COMMIT / "data").iterdir()] == ["a b.csv"]


def test_a_failed_download_names_the_url_the_file_and_the_attempts(served, download_cache, caplog):
    server, path, sha256 = served
    server.failures = 100
    with caplog.at_level(logging.INFO, logger="miro"), pytest.raises(DownloadError) as info:
        fetch(server, path, sha256)
    message = str(info.value)
    assert f"cannot download {server.url}/data/a%20b.csv to {download_cache / REPO / COMMIT}" in (
        message
    )
    assert "503" in message and "2 attempts" in message and path in message
    assert "attempt 2 of 2" in caplog.text and "attempt 1 failed" in caplog.text
    assert not list((download_cache / REPO / COMMIT / "data").iterdir())


def test_a_wrong_sha256_is_a_checksum_error(served, download_cache):
    server, path, _ = served
    with pytest.raises(ChecksumError, match=rf"{path} from {server.url}/data/a%20b\.csv .*0{{64}}"):
        fetch(server, path, "0" * 64, retries=0)
    assert not list((download_cache / REPO / COMMIT / "data").iterdir())


def test_progress_goes_to_the_rules_log(served, tmp_path):
    server, path, sha256 = served
    with script_logging(tmp_path / "rule.log"):
        fetch(server, path, sha256, progress=True)
    text = (tmp_path / "rule.log").read_text()
    assert "downloading" in text and "attempt 1 of 2" in text
    assert "100%" in text and "50.0k/50.0k" in text  # tqdm's bar of the 50010 bytes


def test_check_file_names_the_file_and_what_differs(tmp_path):
    path = tmp_path / "f.csv"
    path.write_bytes(b"x,y\n1,2\n")
    digest = hashlib.sha256(b"x,y\n1,2\n").hexdigest()
    check_file(path, 8, digest)
    with pytest.raises(ChecksumError, match=rf"{path} .*expected 9 bytes.*got 8 bytes"):
        check_file(path, 9, digest)
    with pytest.raises(ChecksumError, match=rf"sha256 0{{64}}; got 8 bytes, sha256 {digest}"):
        check_file(path, 8, "0" * 64)


def test_place_copies_atomically(tmp_path):
    src = tmp_path / "src.bin"
    src.write_bytes(DATA)
    target = place(src, tmp_path / "out" / "dst.bin")
    assert target.read_bytes() == DATA and target.stat().st_ino != src.stat().st_ino
    assert sorted(p.name for p in target.parent.iterdir()) == ["dst.bin"]
