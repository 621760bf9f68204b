"""One download cache for the files of pinned upstream repositories: the benchmark of Nieves et
al. 2023 and the MIRO authors' published files (paper, "Data availability" and "Code
availability"; ``docs/reference.md#benchmark``).

A file is kept at ``<cache>/<owner>/<repository>/<commit>/<path in the repository>``, so every
clone of the workflow, every results folder and both kinds of files (data and weights) share one
copy. ``<cache>`` is the config's ``cache_dir``, else the environment variable ``MIRO_CACHE``,
else the user cache folder of the OS (``pooch.os_cache("miro-workflow")``: ``~/.cache/
miro-workflow`` on Linux, ``~/Library/Caches/miro-workflow`` on macOS).

Downloads go through pooch: every use hashes the cached file against its manifest sha256, and a
file that differs (truncated, corrupted) is downloaded again; a download is written to a
temporary file in the same folder, checked, then renamed, so concurrent jobs never see a partial
file (two jobs needing the same missing file may both download it; the last rename wins, with
the same bytes). Failed attempts are retried after 1, 2, 3... seconds (pooch), except client
errors (a 404 is a wrong URL or pin: retrying cannot help).

Workflow outputs are copies of cache entries (:func:`place`), not links: clearing the cache
(deleting the folder) never touches results, and nothing done to results can alter the cache.
Local copies (``local_copies``, ``benchmark.local_dir``, ``published.local_dir``) bypass the
cache and the network; they are checked with :func:`check_file`.
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path
from urllib.parse import quote

import pooch
import requests

from miro.files import atomic_path

APP = "miro-workflow"
ENV = "MIRO_CACHE"
TIMEOUT = 60.0  # seconds to connect, or between two chunks of a download
CHUNK = 1 << 16  # bytes read at a time
log = logging.getLogger(__name__)
# pooch's own log handler writes to the stderr of import time, not to the rule's log
# (miro.runlog); its messages are replaced by those of _Downloader.
pooch.get_logger().setLevel(logging.WARNING)


class DownloadError(RuntimeError):
    """A file that cannot be downloaded: the message names the URL, the file and the attempts."""


class ChecksumError(RuntimeError):
    """A downloaded or local file whose size or sha256 differs from its manifest."""


def cache_root(cache_dir: str | os.PathLike | None = None) -> Path:
    """The download cache: ``cache_dir`` if given, else ``$MIRO_CACHE``, else the OS user cache."""
    chosen = cache_dir or os.environ.get(ENV) or pooch.os_cache(APP)
    return Path(chosen).expanduser()


def cached(
    path: str,
    sha256: str,
    *,
    repo: str,
    commit: str,
    base_url: str,
    cache_dir: str | os.PathLike | None = None,
    retries: int = 4,
    progress: bool = False,
) -> Path:
    """The cached, verified copy of ``path`` of ``repo`` at ``commit``; downloaded from
    ``<base_url>/<path>`` (with ``retries`` further attempts) when it is absent from the cache or
    differs from ``sha256``. ``progress``: a tqdm bar of the bytes (on stderr: the rule's log).

    Raises:
        ChecksumError: every attempt downloaded a file whose sha256 is not ``sha256`` (the
            message names the file and the URL; nothing is left in the cache).
        DownloadError: the download failed (the message names the URL, the file in the cache
            and the attempts; ``__cause__`` is the last network error).
    """
    root = cache_root(cache_dir) / repo / commit
    url = f"{base_url.rstrip('/')}/{quote(path)}"
    # pooch creates a missing parent folder without exist_ok: racy between concurrent jobs
    (root / path).parent.mkdir(parents=True, exist_ok=True)
    store = pooch.create(
        path=root,
        base_url=base_url,
        registry={path: f"sha256:{sha256}"},
        urls={path: url},
        retry_if_failed=retries,
    )
    downloader = _Downloader(retries + 1, progressbar=progress, timeout=TIMEOUT, chunk_size=CHUNK)
    try:
        found = Path(store.fetch(path, downloader=downloader))
    except ValueError as err:  # pooch: the downloaded file's hash is not the known one
        raise ChecksumError(f"{path} from {url} does not match the manifest: {err}") from err
    except (requests.RequestException, _ClientError) as err:
        tries = f"{downloader.attempts} attempt{'s' if downloader.attempts > 1 else ''}"
        raise DownloadError(f"cannot download {url} to {root / path} ({err}; {tries})") from err
    if not downloader.attempts:
        log.info("%s: verified in the cache (%s)", path, found)
    return found


class _ClientError(Exception):
    """An HTTP client error: final (pooch retries only ValueError and requests errors)."""


class _Downloader(pooch.HTTPDownloader):
    """pooch's HTTP downloader that logs each attempt and does not retry client errors."""

    def __init__(self, attempts: int, **kwargs) -> None:
        super().__init__(**kwargs)
        self.total, self.attempts = attempts, 0

    def __call__(self, url, output_file, pooch_, check_only=False):
        self.attempts += 1
        log.info("downloading %s (attempt %d of %d)", url, self.attempts, self.total)
        try:
            return super().__call__(url, output_file, pooch_, check_only=check_only)
        except requests.HTTPError as err:
            code = err.response.status_code
            if 400 <= code < 500 and code not in (408, 429):  # timeout, rate limit: transient
                raise _ClientError(str(err)) from err
            log.warning("%s: attempt %d failed (%s)", url, self.attempts, err)
            raise
        except requests.RequestException as err:
            log.warning("%s: attempt %d failed (%s)", url, self.attempts, err)
            raise


def check_file(path: str | os.PathLike, bytes: int, sha256: str) -> None:
    """Raise ChecksumError naming ``path`` unless it has exactly ``bytes`` bytes and sha256
    ``sha256`` (expected and found values in the message)."""
    size, found = Path(path).stat().st_size, pooch.file_hash(str(path), alg="sha256")
    if (size, found) != (bytes, sha256):
        raise ChecksumError(
            f"{path} does not match the manifest: expected {bytes} bytes, sha256 {sha256}; got "
            f"{size} bytes, sha256 {found}"
        )


def place(src: str | os.PathLike, target: str | os.PathLike) -> Path:
    """Copy ``src`` (a cache entry or a checked local copy) to ``target`` atomically."""
    with atomic_path(target) as tmp:
        shutil.copyfile(src, tmp)
    return Path(target)
