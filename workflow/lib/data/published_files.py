"""The MIRO authors' published files: where they are, how they are obtained and verified, what
the checkpoint files do not store, and the authors' DBSCAN parameters (``docs/published.md``;
paper, "Code availability").

The repository ``DeepTrackAI/MIRO`` is pinned at one commit (:data:`PUBLISHED_COMMIT`). Every
file the workflow uses from it (the checkpoints, ``benchmark/metadata.json``,
``single-shot/metadata.json`` and the single-shot training clusters) is listed with size and
sha256 in ``resources/published_checkpoints.tsv`` and is obtained the way the benchmark is
(`miro.data.benchmark`): copied from a local copy with the upstream layout
(``<local_dir>/<path in the repository>``, config ``published.local_dir``) or from the download
cache shared with the benchmark (`miro.data.cache`: downloaded from ``<base_url>/<path>`` with
retries), and used only if it matches the manifest.

A checkpoint stores weights only. How each model was trained and is used (recurrent steps,
connectivity radius, multiscale switch step k*, class names of a class head, training extent,
where the authors' DBSCAN parameters are) is :class:`PublishedModel`, read by
:func:`read_published_models` from ``resources/published_models.tsv`` (the multishape,
multiscale and single-shot models; facts of the authors' code, ``docs/published.md``) and
``resources/benchmark_settings.csv`` (one benchmark model per folder).

The authors' metadata files map each benchmark folder to its settings; ``MIRO_DBSCAN_params``
holds their DBSCAN parameters after MIRO (``eps`` in nm, ``min_samples``; the paper's Supp.
Tables 1-2) and ``DBSCAN_params`` those of plain DBSCAN, read by :func:`read_authors_dbscan`.
Torch-free, so that `miro.config` can check a local copy before any job.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from miro.data.benchmark import FOV_NM, read_manifest
from miro.data.cache import DownloadError, cached, check_file, place

PUBLISHED_REPO = "DeepTrackAI/MIRO"
PUBLISHED_COMMIT = "ed2b318b8015f47c47841b18c55a9fea8ef83982"
PUBLISHED_RAW = f"https://raw.githubusercontent.com/{PUBLISHED_REPO}/{PUBLISHED_COMMIT}"
METADATA_PATH = "benchmark/metadata.json"  # per-folder settings and DBSCAN parameters
_FOLDER = re.compile(r"^(Ground Truth|Multiple Blinking) - Scenario ([2-9]|10)$")
MODEL_KINDS = ("benchmark", "multishape", "multiscale", "single-shot")
DBSCAN_PARAMS = ("MIRO_DBSCAN_params", "DBSCAN_params")  # after MIRO, plain DBSCAN
_MODEL_COLUMNS = (
    *("path", "kind", "folder", "steps", "k_star", "radius", "classes", "fov_nm", "metadata"),
    *("dbscan_eps_normalized", "dbscan_min_samples"),
)
_BENCHMARK_COLUMNS = ("folder", "recurrent_steps", "connectivity_radius_normalized")


class PublishedError(RuntimeError):
    """Published files that cannot be obtained or read."""


def load_manifest(path: str | os.PathLike) -> pd.DataFrame:
    """Read ``published_checkpoints.tsv`` (columns path, bytes, sha256; one row per file)."""
    return read_manifest(
        path, ("path",), what="published-checkpoint manifest", error=PublishedError
    )


def checkpoint_path(folder: str | None) -> str:
    """Repository path of the published model of a benchmark folder.

    ``"Ground Truth - Scenario 8"`` -> ``benchmark/models/model_scenario_8.pt``,
    ``"Multiple Blinking - Scenario 8"`` -> ``benchmark/models/model_scenario_8_blinking.pt``.
    """
    match = _FOLDER.match(folder or "")
    if match is None:
        raise ValueError(
            f"no published MIRO model for {folder!r}: the authors published one per benchmark "
            "folder, 'Ground Truth - Scenario N' or 'Multiple Blinking - Scenario N', N = 2..10"
        )
    suffix = "_blinking" if match[1] == "Multiple Blinking" else ""
    return f"benchmark/models/model_scenario_{match[2]}{suffix}.pt"


@dataclass(frozen=True)
class PublishedModel:
    """One published checkpoint and what its file does not store (``docs/published.md``)."""

    path: str  # in the repository
    kind: str  # one of MODEL_KINDS
    steps: int  # recurrent steps it was trained with
    radius: float  # connectivity radius, min-max normalised units
    folder: str | None = None  # benchmark folder it was trained on: its key in ``metadata``
    k_star: int | None = None  # multiscale: steps [0, k*) learned the fine structures
    classes: tuple[str, ...] = ()  # names of its class logits, class 0 first; () = no class head
    fov_nm: float | None = None  # training extent (nm); None = unit-square FOVs: the data's extent
    metadata: str | None = None  # the authors' file holding its MIRO_DBSCAN_params
    dbscan_eps_normalized: float | None = None  # the authors' code's DBSCAN eps after MIRO
    dbscan_min_samples: int | None = None  # ... and min_samples (models without ``metadata``)


def read_published_models(
    table: str | os.PathLike, benchmark_settings: str | os.PathLike
) -> dict[str, PublishedModel]:
    """Every published model by repository path: one per benchmark folder (``benchmark_settings``:
    the folder's recurrent steps and radius, the benchmark's 2000 nm FOVs, the authors'
    ``benchmark/metadata.json``), then the rows of ``table`` (``resources/published_models.tsv``:
    columns :data:`_MODEL_COLUMNS`, empty cells for missing values, ``classes`` space-separated).
    Every problem raises PublishedError naming the file, the row's path and the column."""
    models = {}
    for row in _read_rows(benchmark_settings, ",", _BENCHMARK_COLUMNS):
        folder = row["folder"]
        path = checkpoint_path(folder)
        models[path] = PublishedModel(
            path=path,
            kind="benchmark",
            folder=folder,
            steps=_cell(benchmark_settings, path, row, "recurrent_steps", int),
            radius=_cell(benchmark_settings, path, row, "connectivity_radius_normalized", float),
            fov_nm=FOV_NM,
            metadata=METADATA_PATH,
        )
    for row in _read_rows(table, "\t", _MODEL_COLUMNS):
        path = row["path"]
        if path in models:
            raise PublishedError(f"{table}: {path} is listed twice")
        if row["kind"] not in MODEL_KINDS:
            raise PublishedError(
                f"{table}: {path}: kind {row['kind']!r} is not one of {', '.join(MODEL_KINDS)}"
            )
        model = PublishedModel(
            path=path,
            kind=row["kind"],
            folder=row["folder"] or None,
            steps=_cell(table, path, row, "steps", int),
            radius=_cell(table, path, row, "radius", float),
            k_star=_optional(table, path, row, "k_star", int),
            classes=tuple(row["classes"].split()),
            fov_nm=_optional(table, path, row, "fov_nm", float),
            metadata=row["metadata"] or None,
            dbscan_eps_normalized=_optional(table, path, row, "dbscan_eps_normalized", float),
            dbscan_min_samples=_optional(table, path, row, "dbscan_min_samples", int),
        )
        if model.k_star is not None and model.k_star >= model.steps:
            raise PublishedError(f"{table}: {path}: k_star {model.k_star} >= steps {model.steps}")
        if len(model.classes) == 1:
            raise PublishedError(f"{table}: {path}: a class head needs 2 or more classes")
        if (model.metadata is None) != (model.folder is None):
            raise PublishedError(f"{table}: {path}: give both folder and metadata, or neither")
        if (model.dbscan_eps_normalized is None) != (model.dbscan_min_samples is None):
            raise PublishedError(
                f"{table}: {path}: give both dbscan_eps_normalized and dbscan_min_samples"
            )
        models[path] = model
    return models


def _read_rows(path: str | os.PathLike, sep: str, columns: tuple[str, ...]) -> list[dict]:
    try:
        df = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise PublishedError(f"{path}: cannot read the table ({err})") from err
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise PublishedError(f"{path}: lacks columns {missing}; has {list(df.columns)}")
    return df.to_dict("records")


def _optional(path, key: str, row: dict, column: str, kind: type) -> Any:
    """:func:`_cell`, or None for an empty cell."""
    return _cell(path, key, row, column, kind) if row[column] else None


def _cell(path, key: str, row: dict, column: str, kind: type) -> Any:
    """A positive number of type ``kind`` from one cell; PublishedError naming where it is."""
    text = row[column]
    try:
        value = kind(text)
    except ValueError:
        value = None
    if value is None or not math.isfinite(value) or value <= 0:
        raise PublishedError(f"{path}: {key}: {column} {text!r} is not a positive {kind.__name__}")
    return value


def fetch_published(
    path_in_repo: str,
    dest: str | os.PathLike,
    *,
    manifest: pd.DataFrame,
    local_file: str | os.PathLike | None = None,
    local_dir: str | os.PathLike | None = None,
    base_url: str = PUBLISHED_RAW,
    cache_dir: str | os.PathLike | None = None,
    retries: int = 4,
) -> Path:
    """Copy the published file ``path_in_repo`` to ``dest``, verified against ``manifest``.

    From ``local_file`` if given (``model.published_file``), else from
    ``local_dir/<path_in_repo>`` if ``local_dir`` is given (``published.local_dir``, the upstream
    layout), else from the download cache shared with the benchmark (`miro.data.cache.cached`:
    downloaded from ``base_url/<path_in_repo>`` with ``retries`` when absent or not matching).

    Raises:
        PublishedError: the path is not in the manifest, the local file is missing, or the
            download fails (the message names the URL and the settings for a local copy).
        miro.data.cache.ChecksumError: the local or downloaded file differs from the manifest.
    """
    rows = manifest[manifest["path"] == path_in_repo]
    if rows.empty:
        raise PublishedError(f"{path_in_repo} is not listed in the published-checkpoint manifest")
    size, sha256 = int(rows["bytes"].iloc[0]), str(rows["sha256"].iloc[0])
    url = f"{base_url.rstrip('/')}/{path_in_repo}"
    if local_file is not None or local_dir is not None:
        if local_file is not None:
            src, setting = Path(local_file), "model.published_file"
        else:
            src, setting = Path(local_dir) / path_in_repo, f"published.local_dir = {local_dir}"
        if not src.is_file():
            raise PublishedError(
                f"{src} ({setting}) does not exist; it should be a copy of {url}"
                + ("" if local_file is not None else " (upstream layout <local_dir>/<path>)")
            )
        check_file(src, size, sha256)
        return place(src, dest)
    try:
        src = cached(
            path_in_repo,
            sha256,
            repo=PUBLISHED_REPO,
            commit=PUBLISHED_COMMIT,
            base_url=base_url,
            cache_dir=cache_dir,
            retries=retries,
            progress=True,
        )
    except DownloadError as err:
        also = (
            ", or datasets.<name>.settings.model.published_file to this one file"
            if path_in_repo.endswith(".pt")
            else ""
        )
        raise PublishedError(
            f"{err}. Without network access, set local_copies: DIR in the config, DIR/weights "
            f"being a copy of {PUBLISHED_REPO} at commit {PUBLISHED_COMMIT} with the upstream "
            f"layout (DIR/weights/{path_in_repo}); or set published.local_dir to such a "
            f"copy{also}"
        ) from err
    return place(src, dest)


def read_authors_dbscan(
    path: str | os.PathLike, folder: str, params: str = "MIRO_DBSCAN_params"
) -> dict[str, Any]:
    """The authors' DBSCAN parameters ``params`` (one of :data:`DBSCAN_PARAMS`: after MIRO, or
    plain DBSCAN) for a benchmark ``folder``, from their metadata file at ``path``
    (``benchmark/metadata.json`` or ``single-shot/metadata.json``): ``{"eps": nm,
    "min_samples": int}``.

    The file maps each folder name to its settings; ``params`` holds ``eps`` (nm, a positive
    number) and ``min_samples`` (a positive integer). Every layout error names the file and the
    key.
    """
    if params not in DBSCAN_PARAMS:
        raise ValueError(f"unknown DBSCAN parameters {params!r}; choose from {DBSCAN_PARAMS}")
    try:
        metadata = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PublishedError(f"{path}: no such file (the authors' metadata)") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise PublishedError(f"{path}: not a JSON file ({err})") from err
    if not isinstance(metadata, dict):
        raise PublishedError(
            f"{path}: expected an object keyed by benchmark folder, got {type(metadata).__name__}"
        )
    if folder not in metadata:
        raise PublishedError(
            f"{path}: no entry for benchmark folder {folder!r} "
            f"(it has {len(metadata)}: {', '.join(sorted(map(str, metadata)))[:200]})"
        )
    entry = metadata[folder]
    found = entry.get(params) if isinstance(entry, dict) else None
    where = f"{path}: {folder!r}.{params}"
    if not isinstance(found, dict):
        raise PublishedError(f"{where}: missing or not an object with eps and min_samples")
    eps, min_samples = found.get("eps"), found.get("min_samples")
    if isinstance(eps, bool) or not isinstance(eps, int | float) or not math.isfinite(eps):
        raise PublishedError(f"{where}.eps: {eps!r} is not a number (nm)")
    if eps <= 0:
        raise PublishedError(f"{where}.eps: {eps!r} is not positive")
    if isinstance(min_samples, bool) or not isinstance(min_samples, int) or min_samples < 1:
        raise PublishedError(f"{where}.min_samples: {min_samples!r} is not a positive integer")
    return {"eps": float(eps), "min_samples": int(min_samples)}


def authors_params(spec: Mapping[str, Any], metadata_file: str | os.PathLike | None) -> dict:
    """The authors' DBSCAN parameters that ``spec`` points to (`miro.config.authors_dbscan`):
    ``{"eps": nm, "min_samples": int, "source": ...}``. A spec with ``metadata`` is read from
    ``metadata_file``, the workflow's verified copy of that file; one with values is taken as
    it is."""
    if "metadata" not in spec:
        return {k: spec[k] for k in ("eps", "min_samples", "source")}
    if metadata_file is None:
        raise ValueError(f"the authors' {spec['metadata']} is needed for {spec['folder']!r}")
    values = read_authors_dbscan(metadata_file, spec["folder"], spec["params"])
    where = f"{PUBLISHED_REPO}@{PUBLISHED_COMMIT[:8]} {spec['metadata']}"
    return values | {"source": f"published ({where}, {spec['folder']!r}.{spec['params']})"}
