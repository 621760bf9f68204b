"""Shared fixtures: where the local benchmark copy and the authors' published files live."""

from __future__ import annotations

import os
import socket
import sys
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote

import pytest

REPO = Path(__file__).resolve().parents[1]
# rule scripts run in-process (runpy) find workflow/scripts/_miro_path.py as under Snakemake,
# which puts a script's folder on sys.path
sys.path.append(str(REPO / "workflow" / "scripts"))


def benchmark_root() -> Path:
    """The local copy of the SMLM clustering benchmark (``MIRO_BENCHMARK_DIR`` or ../shared)."""
    return Path(os.environ.get("MIRO_BENCHMARK_DIR", REPO.parent / "shared" / "benchmark"))


@pytest.fixture(scope="session")
def benchmark_dir() -> Path:
    root = benchmark_root()
    if not root.is_dir():
        pytest.skip(f"benchmark data not found at {root} (set MIRO_BENCHMARK_DIR)")
    return root


def weights_root() -> Path:
    """The local copy of the MIRO authors' files, upstream layout (``MIRO_WEIGHTS_DIR`` or
    ../shared/weights)."""
    return Path(os.environ.get("MIRO_WEIGHTS_DIR", REPO.parent / "shared" / "weights"))


@pytest.fixture(scope="session")
def weights_dir() -> Path:
    root = weights_root()
    if not root.is_dir():
        pytest.skip(f"the authors' published files not found at {root} (set MIRO_WEIGHTS_DIR)")
    return root


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture
def closed_port_url() -> str:
    """A URL on 127.0.0.1 where nothing listens: a download that must fail, offline."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture(autouse=True)
def download_cache(tmp_path_factory, monkeypatch) -> Path:
    """This test's own download cache (``MIRO_CACHE``, `miro.data.cache`): no test reads or
    fills the user's cache, and none sees another test's downloads."""
    cache = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv("MIRO_CACHE", str(cache))
    return cache


class RecordingHandler(SimpleHTTPRequestHandler):
    """Static files; records each request path and answers 503 while ``server.failures`` > 0."""

    def log_message(self, *args):
        pass

    def do_GET(self):
        self.server.requests.append(unquote(self.path))
        if self.server.failures > 0:
            self.server.failures -= 1
            self.send_error(503)
            return
        super().do_GET()


@pytest.fixture
def http_server(tmp_path):
    """A real HTTP server on a free local port serving ``server.root`` (``tmp_path/served``) at
    ``server.url``; ``server.requests`` lists the decoded paths asked for, and the next
    ``server.failures`` requests are answered 503."""
    root = tmp_path / "served"
    root.mkdir()
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(RecordingHandler, directory=str(root)))
    server.root, server.url = root, f"http://127.0.0.1:{server.server_port}"
    server.requests, server.failures = [], 0
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()
