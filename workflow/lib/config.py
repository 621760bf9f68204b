"""The workflow configuration: read, validated, defaulted and checked in one place.

:func:`load_settings` is the one entry point (the ``Snakefile`` calls it before any rule is
defined): it validates a config against ``workflow/schemas/config.schema.yaml`` (every key is
described there), fills in the defaults and runs every check the config alone allows, so that a
config that cannot run stops before any job with one short line per problem naming the key path
(README, "Presets and configuration").

Precedence of dataset settings, lowest to highest: the built-in defaults below, the per-folder
reference settings of ``resources/benchmark_settings.csv`` (benchmark folders only: recurrent
steps, connectivity radius, augmented graphs, training FOVs, published DBSCAN parameters), the
training settings of the dataset's published model (``model.source: published``: its recurrent
steps, radius and multiscale k*, `miro.data.published_files.PublishedModel`), the config's
``defaults`` section, then the dataset's own ``settings``. A ``null`` in the config means "use
the per-folder (or per-model) value".

``python -m miro.config check FILE...`` checks config files from the shell (``run.sh`` uses
``--syntax`` on the files given to ``--configfile``, which Snakemake parses without reporting
where a YAML error lies).
"""

from __future__ import annotations

import argparse
import copy
import difflib
import functools
import re
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import jsonschema
import pandas as pd
import yaml

from miro.data.benchmark import FOV_NM, UPSTREAM_RAW, fov_number
from miro.data.local import local_files, train_fov_numbers
from miro.data.published_files import (
    METADATA_PATH,
    PUBLISHED_COMMIT,
    PUBLISHED_RAW,
    PUBLISHED_REPO,
    PublishedError,
    PublishedModel,
    checkpoint_path,
    read_authors_dbscan,
    read_published_models,
)
from miro.data.readers import FORMATS
from miro.data.simulate import SIMULATORS, fov_size, simulate_fov
from miro.data.split import split_fovs

REPO = Path(__file__).resolve().parents[2]
SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"
BENCHMARK_SETTINGS = REPO / "resources" / "benchmark_settings.csv"
BENCHMARK_MANIFEST = REPO / "resources" / "benchmark_manifest.tsv"
PUBLISHED_MODELS = REPO / "resources" / "published_models.tsv"
MAX_PROBLEMS = 12  # lines of one ConfigError; the rest is counted

# ------------------------------------------------------------------------------------ defaults
# Every default of the config, in one place (the schema repeats them as `default:`, checked
# equal by the tests). BUILTIN: the settings of every dataset, overridden by benchmark_settings.csv
# (benchmark folders), then the config's `defaults`, then the dataset's `settings`; they are the
# paper's reference settings where it states them (Methods, "MIRO training and augmentations").
BUILTIN: dict[str, Any] = {
    "n_train": 3,  # training FOVs, as for every benchmark scenario
    "model": {
        "source": "train",  # or "published": the authors' weights
        "published": None,  # their path in the authors' repository; None = the benchmark folder's
        "published_file": None,  # this dataset's checkpoint file; None = published.local_dir
        "width": 256,
        "steps": 12,  # benchmark folders: the folder's value
        "radius": 0.1,  # min-max normalised units; benchmark folders: the folder's value
        "num_classes": None,  # None: inferred from the training data's class column
    },
    "augment": {"n_graphs": 1000, "chunks": 4, "single_shot": False},  # n_graphs: per folder
    # beta: the paper's ablation (Methods, "Loss function weights") finds 0.15-0.2 best;
    # k_star: multiscale only, no default (the switch step depends on the structures).
    "train": {
        "epochs": 30,
        "batch_size": 4,
        "lr": 1e-4,
        "schedule": "constant",  # or onecycle (the CPU recipe)
        "warmup": 0.3,  # onecycle: fraction of the steps warming up
        "alpha": 10.0,
        "beta": 0.15,
        "k_star": None,
    },
    "dbscan": {
        "baseline": "auto",  # published parameters for benchmark folders, Optuna otherwise
        "source": "optuna",  # MIRO + DBSCAN: our study, or "published" (the authors' parameters)
        "tuning_fovs": "train",
        "objective": "ARI",  # or a list of metrics, scored by their mean (benchmarks/tuning.md)
        "n_trials": 60,
        "eps_nm": [2.0, 200.0],
        "min_samples": [2, 60],
    },
}

# The keys of a `source: local` dataset entry (your annotated files, miro.data.local) and their
# defaults; `path` has none.
LOCAL: dict[str, Any] = {
    "pattern": "*.csv",  # the folder's files that are FOVs
    "format": "auto",  # miro.data.readers.FORMATS
    "columns": None,  # canonical x / y -> the files' columns
    "label_column": "index",  # cluster ids, 0 = non-clustered (the benchmark's column)
    "train_files": None,  # None: n_train files drawn with the seed
    "blinking": False,  # augmentation: resample the training FOVs' own background
}
#: entry keys of each source besides `source`, `paper_name`, `settings` and `table1`
SOURCE_KEYS = {
    "benchmark": ("folder",),
    "simulate": ("family", "n_fovs", "params"),
    "local": ("path", *LOCAL),
}

# The other top-level sections; sections left out of the config take these values (a study
# runs only when its section is in the config).
TOP_LEVEL: dict[str, Any] = {
    "preset": "custom",
    "seed": 0,
    "device": "auto",
    "fast_training": False,  # the compiled training step (miro.core.training.FastStep)
    "example_fov": None,  # None: the first test FOV of each dataset
    # one folder of local copies: <dir>/benchmark and <dir>/weights (offline runs)
    "local_copies": None,
    # the download cache of every clone; None = $MIRO_CACHE, else the OS user cache
    "cache_dir": None,
    "benchmark": {"local_dir": None, "base_url": UPSTREAM_RAW, "retries": 4},
    # the authors' files (DeepTrackAI/MIRO, pinned): local copy with the upstream layout
    "published": {"local_dir": None, "base_url": PUBLISHED_RAW, "retries": 4},
    "experiments": {"shapes": [], "multiscale": [], "adjacent": None},
    # DBSCAN parameter landscapes of the Table 1 datasets (Supp. Fig. 1): the first `fovs` test
    # FOVs, eps_points log-spaced eps x min_samples_points min_samples over dbscan's search range
    "landscape": {"enabled": True, "fovs": 5, "eps_points": 16, "min_samples_points": 12},
    # recurrent-steps ablation at the paper's size (Methods, "Number of recurrent steps"; the
    # augmented graphs of Multiple Blinking - Scenario 6); run only with an ablations section
    "ablations": {
        "steps": {
            "depths": [5, 10, 15, 20, 25],
            "repeats": 5,
            "n_fovs": 50,
            "n_graphs": 1000,
            "epochs": 30,
            "width": 256,
        },
        # Supp. Tables 8, 9 and Fig. 3 (datasets are named by the config, never defaulted)
        "width": {"dataset": None, "widths": [64, 128, 256, 512]},
        "loss_weights": {
            "dataset": None,
            "alpha": [0, 1, 5, 10, 20],
            "beta": [0.05, 0.1, 0.15, 0.2, 0.5],
            "blinking_alpha": [0, 10],
        },
        "single_shot": [],
        # MAGIK-S at the paper's size (Methods, "Comparison with a supervised graph-based
        # clustering framework"): width 256, three attention layers with four heads
        "magik": {
            "datasets": [],
            "width": 256,
            "layers": 3,
            "heads": 4,
            "epochs": 30,
            "lr": 1e-4,
            "batch_size": 4,
            "threshold": 0.5,
        },
    },
    "apply": {
        "dataset": None,
        "input_dir": None,
        "format": "auto",
        "columns": None,
        "window_nm": None,
        "overlap_nm": None,
        "example": None,
    },
}


class ConfigError(ValueError):
    """A config that cannot run: one line per problem, each naming the file and the key path."""

    def __init__(self, source: str, problems: Sequence[str]) -> None:
        lines = [f"{source}: {p}" for p in problems[:MAX_PROBLEMS]]
        if len(problems) > MAX_PROBLEMS:
            lines.append(f"{source}: ... and {len(problems) - MAX_PROBLEMS} more problems")
        super().__init__("\n".join(lines))
        self.problems = list(problems)


# ---------------------------------------------------------------------------- entry points
def load_settings(config: Mapping, source: str = "config") -> dict[str, Any]:
    """Validate ``config`` (the merged config files and ``--config`` overrides, named
    ``source`` in messages), fill in the defaults and check it; returns the resolved settings
    (:func:`resolve_config`'s layout). Raises :class:`ConfigError` listing every problem."""
    problems = schema_problems(config)
    if problems:
        raise ConfigError(source, problems)
    settings = resolve_config(config)
    problems = list(dict.fromkeys(_cross_field_problems(config, settings)))
    if problems:
        raise ConfigError(source, problems)
    return settings


def read_config(path: str | Path) -> dict[str, Any]:
    """A YAML config file as a dict; a syntax error names the file, line and column."""
    try:
        with open(path, encoding="utf-8") as f:
            config = yaml.safe_load(f)
    except OSError as err:
        raise ConfigError(str(path), [f"cannot read the file ({err.strerror})"]) from None
    except yaml.MarkedYAMLError as err:
        problem = f"{_where(err.problem_mark)}: {err.problem}"
        if err.context and err.context_mark:
            problem += f" ({err.context} at {_where(err.context_mark)})"
        raise ConfigError(str(path), [problem]) from None
    except yaml.YAMLError as err:
        raise ConfigError(str(path), [f"not valid YAML ({err})"]) from None
    if not isinstance(config, dict):
        raise ConfigError(str(path), ["must be a mapping of top-level keys (seed:, datasets:)"])
    return config


def _where(mark: yaml.Mark | None) -> str:
    return f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown position"


# ------------------------------------------------------------------------------ the schema
def schema() -> dict[str, Any]:
    """The config schema (``workflow/schemas/config.schema.yaml``)."""
    with open(SCHEMA, encoding="utf-8") as f:
        return yaml.safe_load(f)


def schema_problems(config: Mapping) -> list[str]:
    """One short line per schema violation of ``config``, sorted by key path."""
    validator = jsonschema.Draft202012Validator(schema())
    errors = sorted(validator.iter_errors(config), key=lambda e: [str(p) for p in e.path])
    return list(dict.fromkeys(line for error in errors for line in _describe(error)))


def key_path(*keys: str | int) -> str:
    """``("datasets", "Rings", "params")`` -> ``datasets.Rings.params``; list items as ``[i]``."""
    out = ""
    for key in keys:
        out += f"[{key}]" if isinstance(key, int) else (f".{key}" if out else str(key))
    return out


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _short(value: Any) -> str:
    """A config value in a message: its repr, cut to 60 characters."""
    return _clip(repr(value), 60)


_BOUNDS = {
    "minimum": ">=",
    "maximum": "<=",
    "exclusiveMinimum": ">",
    "exclusiveMaximum": "<",
}


def _describe(error: jsonschema.ValidationError) -> list[str]:
    """Short lines for one schema error: the key path and the problem, never the schema."""
    path = key_path(*error.absolute_path) or "top level"
    kind, expected, value = error.validator, error.validator_value, error.instance
    if kind == "additionalProperties" and expected is False:
        allowed = list(error.schema.get("properties", {}))
        lines = []
        for key in sorted(set(value) - set(allowed), key=str):
            near = difflib.get_close_matches(str(key), allowed, n=1)
            hint = f"did you mean {near[0]!r}?" if near else f"allowed: {', '.join(allowed)}"
            lines.append(f"{key_path(*error.absolute_path, key)}: unknown key ({hint})")
        return lines
    if kind == "anyOf" and error.context:  # e.g. dbscan.objective: a metric or a list of them
        return _describe(_alternative_error(error))
    if kind == "required":
        missing = [key for key in expected if key not in value]
        return [f"{path}: missing required key {key!r}" for key in missing]
    if kind == "enum":
        return [f"{path}: {_short(value)} is not one of {', '.join(map(str, expected))}"]
    if kind == "type":
        types = " or ".join(expected) if isinstance(expected, list) else expected
        return [f"{path}: {_short(value)} is not of type {types}"]
    if kind in _BOUNDS:
        return [f"{path}: {_short(value)} must be {_BOUNDS[kind]} {expected}"]
    if kind in ("minItems", "maxItems"):
        bound = "at least" if kind == "minItems" else "at most"
        return [f"{path}: {_short(value)} needs {bound} {expected} items"]
    if kind == "uniqueItems":
        return [f"{path}: {_short(value)} has repeated items"]
    if kind == "minProperties":
        return [f"{path}: needs at least {expected} entry"]
    if kind == "pattern":
        return [f"{path}: {_short(value)} does not match {expected}"]
    return [f"{path}: {_clip(error.message, 150)}"]


def _alternative_error(error: jsonschema.ValidationError) -> jsonschema.ValidationError:
    """The error of an ``anyOf`` alternative that fits the value's kind: the array alternative
    for a list, the others for anything else."""
    is_list = isinstance(error.instance, list)
    fitting = [
        e
        for e in error.context
        if (error.schema["anyOf"][e.schema_path[0]].get("type") == "array") == is_list
    ]
    return jsonschema.exceptions.best_match(fitting or error.context)


# ------------------------------------------------------------------------------ resolution
def _merge(base: dict, override: Mapping | None) -> dict:
    """Recursive dict update that ignores ``None`` overrides (``None`` = keep the base value)."""
    out = copy.deepcopy(base)
    for key, value in (override or {}).items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        elif value is not None or key not in out:
            out[key] = copy.deepcopy(value)
    return out


def benchmark_row(folder: str, settings_csv: Path = BENCHMARK_SETTINGS) -> dict[str, Any]:
    """The reference settings of one benchmark folder as a dict."""
    table = pd.read_csv(settings_csv)
    rows = table[table["folder"] == folder]
    if rows.empty:
        raise ValueError(f"{settings_csv}: no settings for benchmark folder {folder!r}")
    return rows.iloc[0].to_dict()


def resolve_config(config: Mapping) -> dict[str, Any]:
    """Top-level settings with defaults filled in, without checks (use :func:`load_settings`)."""
    out = _merge(TOP_LEVEL, {k: v for k, v in config.items() if k in TOP_LEVEL})
    out.update(_access(config))
    out["datasets"] = {name: dataset_settings(config, name) for name in config["datasets"]}
    return out


def dataset_settings(config: Mapping, name: str) -> dict[str, Any]:
    """Fully resolved settings of dataset ``name`` (see the module docstring for precedence)."""
    entry = config["datasets"][name]
    given = _merge(_merge({}, config.get("defaults")), entry.get("settings")).get("model") or {}
    published = _published_path(entry, given)
    settings = copy.deepcopy(BUILTIN)
    settings["published_dbscan"] = None
    settings["train_fovs"] = None
    settings["local"] = local_settings(entry) if entry["source"] == "local" else None
    if entry["source"] == "benchmark":
        row = benchmark_row(entry["folder"])
        settings["model"]["steps"] = int(row["recurrent_steps"])
        settings["model"]["radius"] = float(row["connectivity_radius_normalized"])
        settings["augment"]["n_graphs"] = int(row["augmented_graphs"])
        settings["train_fovs"] = [int(v) for v in str(row["train_fovs"]).split()]
        settings["published_dbscan"] = {
            "eps": float(row["baseline_dbscan_eps_nm"]),
            "min_samples": int(row["baseline_dbscan_min_samples"]),
        }
    model = published_models().get(published)
    if model is not None and given.get("source") == "published":
        settings["model"]["steps"], settings["model"]["radius"] = model.steps, model.radius
        settings["train"]["k_star"] = model.k_star
    settings = _merge(settings, config.get("defaults"))
    settings = _merge(settings, entry.get("settings"))
    settings["model"]["published"] = published
    settings["source"] = entry["source"]
    settings["folder"] = entry.get("folder")
    settings["family"] = entry.get("family")
    settings["n_fovs"] = entry.get("n_fovs")
    settings["params"] = dict(entry.get("params") or {})
    # the paper's name of the dataset (the scorecard's); none for the user's own data
    unnamed = None if entry["source"] == "local" else entry.get("folder", name)
    settings["paper_name"] = entry.get("paper_name", unnamed)
    settings["table1"] = entry.get("table1", True)
    if settings["local"] is not None:
        _resolve_local(settings)
    if settings["dbscan"]["baseline"] == "auto":
        settings["dbscan"]["baseline"] = "published" if settings["published_dbscan"] else "optuna"
    if settings["train_fovs"] and settings["n_train"] != len(settings["train_fovs"]):
        settings["train_fovs"] = None  # another training size than the paper's: seeded choice
    return settings


def local_settings(entry: Mapping) -> dict[str, Any]:
    """How a ``source: local`` entry's files are found and read: its keys with the
    :data:`LOCAL` defaults, and ``files``, the names of the matching files in FOV order
    (`miro.data.local.local_files`; [] without a folder, a config error)."""
    local = {"path": entry["path"], **{k: entry.get(k, v) for k, v in LOCAL.items()}}
    local["files"] = [p.name for p in local_files(local["path"], local["pattern"]).values()]
    return local


def _resolve_local(settings: dict[str, Any]) -> None:
    """A local dataset: its ``blinking`` as the augmentation reads it (``params``,
    `miro.data.augment.settings_for_dataset`) and its ``train_files`` as the split's training
    FOVs (which fix ``n_train``)."""
    local = settings["local"]
    settings["params"] = {"blinking": local["blinking"]}
    files = {n: Path(local["path"]) / name for n, name in enumerate(local["files"], start=1)}
    if local["train_files"] is not None:
        try:
            settings["train_fovs"] = train_fov_numbers(files, local["train_files"])
        except ValueError:
            return  # reported by the local-data checks
        settings["n_train"] = len(settings["train_fovs"])


def _published_path(entry: Mapping, model: Mapping) -> str | None:
    """``model.published`` as given; by default, with ``model.source: published``, the model
    of the dataset's benchmark folder."""
    if model.get("published") is not None:
        return model["published"]
    if model.get("source") == "published" and entry["source"] == "benchmark":
        return checkpoint_path(entry["folder"])
    return None


def settings_slice(settings: Mapping, keys: Sequence[str]) -> dict[str, Any]:
    """The part of a resolved ``settings`` dict named by dotted ``keys`` (``"model.radius"``,
    ``"train"``), in the same nested layout: what one rule's script reads, and nothing else, so
    that changing any other setting does not re-run it. Mappings come out with sorted keys, so
    the order of keys in a config file does not count as a change either."""
    out: dict[str, Any] = {}
    for key in keys:
        *parents, leaf = key.split(".")
        source, target = settings, out
        for name in parents:
            source, target = source[name], target.setdefault(name, {})
        target[leaf] = copy.deepcopy(source[leaf])
    return _sorted(out)


def _sorted(value: Any) -> Any:
    """``value`` with every mapping in it rebuilt with sorted keys."""
    if isinstance(value, Mapping):
        return {key: _sorted(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [_sorted(item) for item in value]
    return value


def execution_settings(config: Mapping) -> dict[str, Any]:
    """Settings that change how a job runs but not what it produces: the torch ``device``,
    ``fast_training`` (the compiled training step, equal to the eager one within float32
    rounding: `miro.core.training.FastStep`) and how the benchmark and the authors' published
    files are reached (``benchmark``, ``published``: local copy, base URL, retries;
    ``cache_dir``: the download cache, `miro.data.cache`; every file is verified against its
    manifest, so the data is the same either way). Scripts read them from the raw config; they
    are not rule params, so changing them re-runs nothing."""
    return {
        "device": config.get("device") or TOP_LEVEL["device"],
        "fast_training": bool(config.get("fast_training", TOP_LEVEL["fast_training"])),
        "cache_dir": config.get("cache_dir"),
        **_access(config),
    }


#: ``local_copies`` subfolder of each file source (the layout of a shared data folder).
LOCAL_COPIES = {"benchmark": "benchmark", "published": "weights"}


def _access(config: Mapping) -> dict[str, dict[str, Any]]:
    """``benchmark`` and ``published`` with defaults; ``local_copies: DIR`` fills a null
    ``local_dir`` with ``DIR/benchmark`` and ``DIR/weights`` (one setting for offline runs)."""
    out = {key: _merge(TOP_LEVEL[key], config.get(key)) for key in LOCAL_COPIES}
    if config.get("local_copies"):
        for key, sub in LOCAL_COPIES.items():
            if out[key]["local_dir"] is None:
                out[key]["local_dir"] = str(Path(config["local_copies"]) / sub)
    return out


# ------------------------------------------------------------------------ published models
@functools.cache
def published_models() -> dict[str, PublishedModel]:
    """Every published model by its path in the authors' repository
    (`miro.data.published_files.read_published_models`)."""
    return read_published_models(PUBLISHED_MODELS, BENCHMARK_SETTINGS)


def published_choices() -> str:
    """The published models' paths in one short line: the benchmark models as one pattern,
    paths that differ in one number once (``..._scenario_{5,6}.pt``)."""
    groups: dict[str, list[str]] = {}
    for path, model in sorted(published_models().items()):
        if model.kind != "benchmark":
            numbers = re.findall(r"\d+", path)
            key = re.sub(r"\d+", "{}", path) if len(numbers) == 1 else path
            groups.setdefault(key, []).extend(numbers if len(numbers) == 1 else [])
    others = [
        key.format(numbers[0] if len(numbers) == 1 else "{" + ",".join(numbers) + "}")
        if numbers
        else key
        for key, numbers in groups.items()
    ]
    pattern = "benchmark/models/model_scenario_<N>[_blinking].pt"
    return ", ".join([pattern, *others])


def published_model(ds: Mapping) -> PublishedModel | None:
    """The published model a dataset's resolved settings import (``model.source: published``);
    None for a trained model or a path that is not a published model (a config error)."""
    if ds["model"]["source"] != "published":
        return None
    return published_models().get(ds["model"]["published"])


def dataset_fov_nm(ds: Mapping) -> float:
    """Side (nm) of a dataset's FOVs: 2000 for a benchmark folder, else its simulation's (a
    local dataset's is known from its files only: a config error where it is needed)."""
    if ds["source"] == "local":
        raise ValueError("the FOV side of a local dataset is known only from its files")
    return FOV_NM if ds["source"] == "benchmark" else fov_size(ds["family"], ds["params"])


def model_fov_nm(ds: Mapping) -> float:
    """Training extent (nm) of a dataset's published model: the model's, or for a model trained
    on unit-square FOVs (the multishape model) the dataset's own FOV side, the scale its FOVs
    are normalised by."""
    model = published_model(ds)
    return model.fov_nm if model.fov_nm is not None else dataset_fov_nm(ds)


def published_import(ds: Mapping) -> dict[str, Any]:
    """What rule import_published converts a dataset's published model with: its path, the
    dataset's ``model.published_file``, steps, radius and ``train.k_star``, the class names of
    its class head and its training extent (:func:`model_fov_nm`)."""
    model = published_model(ds)
    return {
        "path": model.path,
        "published_file": ds["model"]["published_file"],
        "steps": ds["model"]["steps"],
        "radius": ds["model"]["radius"],
        "k_star": ds["train"]["k_star"],
        "class_names": list(model.classes),
        "fov_nm": model_fov_nm(ds),
    }


def authors_dbscan(ds: Mapping, method: str) -> dict[str, Any] | None:
    """Where the authors' DBSCAN parameters of a dataset's ``method`` ("MIRO": MIRO + DBSCAN,
    "DBSCAN": plain DBSCAN) are (paper Supp. Tables 1-2); None where they published none.

    MIRO + DBSCAN of a published model: its metadata entry (benchmark and single-shot models:
    ``{"metadata": repository path, "folder": key, "params": "MIRO_DBSCAN_params"}``), or the
    values of the authors' code (the multishape model: ``{"eps": nm, "min_samples": n,
    "source": ...}``, eps normalised times :func:`model_fov_nm`). Otherwise, and for plain
    DBSCAN, the entry of the dataset's benchmark folder in ``benchmark/metadata.json``.
    """
    model = published_model(ds)
    if method == "MIRO" and model is not None:
        if model.metadata is not None:
            return {
                "metadata": model.metadata,
                "folder": model.folder,
                "params": "MIRO_DBSCAN_params",
            }
        if model.dbscan_eps_normalized is None:
            return None
        fov, eps = model_fov_nm(ds), model.dbscan_eps_normalized
        return {
            "eps": eps * fov,
            "min_samples": model.dbscan_min_samples,
            "source": (
                f"published ({PUBLISHED_REPO}@{PUBLISHED_COMMIT[:8]} {model.path}, the authors' "
                f"code: eps {eps:g} normalised x {fov:g} nm FOV)"
            ),
        }
    if ds["source"] != "benchmark":
        return None
    params = "MIRO_DBSCAN_params" if method == "MIRO" else "DBSCAN_params"
    return {"metadata": METADATA_PATH, "folder": ds["folder"], "params": params}


def dbscan_table_datasets(settings: Mapping) -> list[str]:
    """Datasets of the DBSCAN-parameter table (Supp. Tables 1-2): those of Table 1, then those
    of the single-shot table (Supp. Table 5)."""
    table1 = [name for name, ds in settings["datasets"].items() if ds["table1"]]
    return list(dict.fromkeys([*table1, *settings["ablations"]["single_shot"]]))


# --------------------------------------------------------------------- cross-field checks
def _cross_field_problems(config: Mapping, settings: Mapping) -> Iterator[str]:
    yield from _range_problems(config)
    yield from _dataset_problems(config, settings)
    yield from _benchmark_problems(settings)
    yield from _published_problems(settings)
    if settings["cache_dir"] and Path(settings["cache_dir"]).expanduser().is_file():
        yield f"cache_dir: {settings['cache_dir']} is a file, not a folder"
    yield from _example_fov_problems(settings)
    yield from _experiment_problems(settings)
    yield from _ablation_problems(settings)
    yield from _apply_problems(config, settings)


def _settings_blocks(config: Mapping) -> Iterator[tuple[tuple[str, ...], Mapping]]:
    """(key path, block) of every settings block the config gives: defaults, then datasets."""
    if config.get("defaults"):
        yield ("defaults",), config["defaults"]
    for name, entry in config["datasets"].items():
        if entry.get("settings"):
            yield ("datasets", name, "settings"), entry["settings"]


def _origin(config: Mapping, name: str, *keys: str) -> str:
    """Key path of the config value a setting of dataset ``name`` was taken from."""
    for prefix, block in reversed(list(_settings_blocks(config))):
        if prefix[0] == "datasets" and prefix[1] != name:
            continue
        node: Any = block
        for key in keys:
            node = node.get(key) if isinstance(node, Mapping) else None
        if node is not None:
            return key_path(*prefix, *keys)
    return key_path("datasets", name, *keys)


def _range_problems(config: Mapping) -> Iterator[str]:
    """The DBSCAN search ranges: eps_nm strictly increasing, min_samples not decreasing."""
    for prefix, block in _settings_blocks(config):
        dbscan = block.get("dbscan") or {}
        eps, min_samples = dbscan.get("eps_nm"), dbscan.get("min_samples")
        if eps and not eps[0] < eps[1]:
            yield f"{key_path(*prefix, 'dbscan', 'eps_nm')}: {eps} is not increasing"
        if min_samples and not min_samples[0] <= min_samples[1]:
            yield f"{key_path(*prefix, 'dbscan', 'min_samples')}: {min_samples} is decreasing"


@functools.cache
def benchmark_files(folder: str) -> tuple[str, ...]:
    """File names of a benchmark folder (``resources/benchmark_manifest.tsv``)."""
    manifest = pd.read_csv(BENCHMARK_MANIFEST, sep="\t", dtype=str)
    return tuple(manifest.loc[manifest["folder"] == folder, "file"])


def _fov_numbers(ds: Mapping) -> list[int]:
    """FOV numbers of a dataset: those of a benchmark folder's files, 1..n_fovs for a simulated
    dataset, 1..N for the N files of a local one (as rule obtain numbers them)."""
    if ds["source"] == "benchmark":
        return sorted(fov_number(f) for f in benchmark_files(ds["folder"]))
    if ds["source"] == "local":
        return list(range(1, len(ds["local"]["files"]) + 1))
    return list(range(1, ds["n_fovs"] + 1))


def _dataset_problems(config: Mapping, settings: Mapping) -> Iterator[str]:
    from miro.studies.multiscale import level_steps  # torch: only for schema-valid configs

    for name, ds in settings["datasets"].items():
        here = ("datasets", name)
        yield from _source_key_problems(config, name)
        if ds["source"] == "local":
            yield from _local_problems(config, name, ds)
            if not ds["local"]["files"]:
                continue  # no FOVs: the other checks would only repeat it
        if ds["source"] == "simulate":
            yield from _simulation_problems(key_path(*here), ds["family"], ds["params"])
        if ds["source"] != "benchmark" and ds["dbscan"]["baseline"] == "published":
            yield (
                f"{_origin(config, name, 'dbscan', 'baseline')}: 'published' on {_kind(ds)} "
                f"dataset {name!r}; only benchmark folders have published DBSCAN parameters"
            )
        problems = list(_published_model_problems(config, name, ds))
        yield from problems
        if not problems and ds["dbscan"]["source"] == "published":
            if authors_dbscan(ds, "MIRO") is None:
                yield (
                    f"{_origin(config, name, 'dbscan', 'source')}: 'published' on dataset "
                    f"{name!r}: the authors published MIRO + DBSCAN parameters for benchmark "
                    f"folders ({METADATA_PATH}) and for their single-shot and multishape models "
                    "only; use 'optuna'"
                )
        n_fovs = len(_fov_numbers(ds))
        if ds["train_fovs"] is None and ds["n_train"] >= n_fovs:
            yield (
                f"{_origin(config, name, 'n_train')}: {ds['n_train']} training FOVs leave no "
                f"test FOV of dataset {name!r} ({n_fovs} FOVs)"
            )
        if ds["train"]["k_star"] is not None:
            try:
                level_steps(ds["train"]["k_star"], ds["model"]["steps"])
            except ValueError as err:
                yield f"{_origin(config, name, 'train', 'k_star')}: {err} (dataset {name!r})"


def _kind(ds: Mapping) -> str:
    """A dataset's source in messages: benchmark, simulated or local."""
    return {"simulate": "simulated"}.get(ds["source"], ds["source"])


def _published_model_problems(config: Mapping, name: str, ds: Mapping) -> Iterator[str]:
    """``model.published``: a published model's path, given with ``model.source: published``;
    a simulated dataset must name one (benchmark folders default to their own)."""
    source, path = ds["model"]["source"], ds["model"]["published"]
    if source == "train" and path is not None:
        yield (
            f"{_origin(config, name, 'model', 'published')}: {path!r} is only used with "
            f"model.source: published (dataset {name!r} trains its model)"
        )
    elif source == "published" and path is None:
        yield (
            f"{_origin(config, name, 'model', 'source')}: 'published' on {_kind(ds)} dataset "
            f"{name!r} needs model.published, one of {published_choices()}"
        )
    elif source == "published" and path not in published_models():
        yield (
            f"{_origin(config, name, 'model', 'published')}: {path!r} is not a published model, "
            f"one of {published_choices()}"
        )
    elif source == "published" and ds["source"] == "local" and published_model(ds).fov_nm is None:
        yield (
            f"{_origin(config, name, 'model', 'published')}: {path!r} was trained on "
            f"unit-square FOVs, which need a known FOV side; local dataset {name!r} has none"
        )


def _source_key_problems(config: Mapping, name: str) -> Iterator[str]:
    """Keys of a local dataset on a benchmark or simulated one, and theirs on a local one
    (:data:`SOURCE_KEYS`)."""
    entry = config["datasets"][name]
    local = entry["source"] == "local"
    for source, keys in SOURCE_KEYS.items():
        if (source == "local") == local:
            continue
        for key in keys:
            if key in entry:
                yield (
                    f"{key_path('datasets', name, key)}: a key of source {source}, not of "
                    f"{entry['source']}"
                )


def _local_problems(config: Mapping, name: str, ds: Mapping) -> Iterator[str]:
    """A local dataset's folder, files, format and training files (their content is checked
    by rule obtain, which reads them: `miro.data.local.read_local`)."""
    local, here = ds["local"], ("datasets", name)
    folder = Path(local["path"])
    if not folder.is_dir():
        yield f"{key_path(*here, 'path')}: {folder} is not a folder"
        return
    if not local["files"]:
        yield f"{key_path(*here, 'pattern')}: no file of {folder} matches {local['pattern']!r}"
        return
    stems = [Path(f).stem for f in local["files"]]
    shared = sorted({s for s in stems if stems.count(s) > 1})
    if shared:
        yield (
            f"{key_path(*here, 'pattern')}: files of {folder} share the stems {shared}; "
            "each FOV file is named after its stem"
        )
    if local["format"] not in FORMATS:
        yield f"{key_path(*here, 'format')}: {local['format']!r} is not one of {', '.join(FORMATS)}"
    train = local["train_files"]
    if train is None:
        return
    files = {n: folder / f for n, f in enumerate(local["files"], start=1)}
    try:
        train_fov_numbers(files, train)
    except ValueError as err:
        yield f"{key_path(*here, 'train_files')}: {_clip(str(err), 200)}"
        return
    if len(train) >= len(files):
        yield (
            f"{key_path(*here, 'train_files')}: {len(train)} training files leave no test FOV "
            f"of the {len(files)} files of {folder}"
        )
    own = (config["datasets"][name].get("settings") or {}).get("n_train")
    if own is not None and own != len(train):
        yield (
            f"{key_path(*here, 'settings', 'n_train')}: {own}, but train_files names "
            f"{len(train)} files; leave n_train out"
        )


def _simulation_problems(path: str, family: str, params: Mapping) -> Iterator[str]:
    """A simulation family and its parameters, checked by simulating one FOV with them."""
    if family not in SIMULATORS:
        yield f"{path}.family: {family!r} is not one of {', '.join(SIMULATORS)}"
        return
    try:
        simulate_fov(family, 0, **params)
    except (ValueError, TypeError) as err:
        yield f"{path}.params: {_clip(str(err), 200)}"


def _benchmark_problems(settings: Mapping) -> Iterator[str]:
    """``benchmark.local_dir``: a folder holding every file of each configured benchmark folder."""
    local_dir = settings["benchmark"]["local_dir"]
    if local_dir is None:
        return
    root = Path(local_dir)
    if not root.is_dir():
        yield f"benchmark.local_dir: {local_dir} is not a folder"
        return
    folders = {ds["folder"]: name for name, ds in settings["datasets"].items() if ds["folder"]}
    for folder, name in folders.items():
        files = benchmark_files(folder)
        missing = [f for f in files if not (root / folder / f).is_file()]
        if len(missing) == len(files):
            yield f"benchmark.local_dir: {local_dir} has no folder {folder!r} (dataset {name!r})"
        elif missing:
            yield (
                f"benchmark.local_dir: {root / folder} lacks {len(missing)} of its "
                f"{len(files)} files, e.g. {missing[0]} (dataset {name!r})"
            )


def published_needs(settings: Mapping) -> dict[str, list[str]]:
    """Repository path -> datasets needing it from the authors' files: the checkpoint of every
    dataset with ``model.source: published`` and no ``model.published_file``, and the metadata
    file of the authors' DBSCAN parameters (:func:`authors_dbscan`) of every dataset with
    ``dbscan.source: published`` and of every dataset of the DBSCAN-parameter table."""
    needs: dict[str, list[str]] = {}
    table = dbscan_table_datasets(settings)
    for name, ds in settings["datasets"].items():
        model = published_model(ds)
        if model is not None and ds["model"]["published_file"] is None:
            needs.setdefault(model.path, []).append(name)
        methods = ["MIRO", "DBSCAN"] if name in table else []
        if ds["dbscan"]["source"] == "published":
            methods.append("MIRO")
        specs = [authors_dbscan(ds, method) for method in methods]
        for path in sorted({spec["metadata"] for spec in specs if spec and "metadata" in spec}):
            needs.setdefault(path, []).append(name)
    return needs


def _published_problems(settings: Mapping) -> Iterator[str]:
    """``published.local_dir``: a folder with the upstream layout holding every file the
    datasets need (:func:`published_needs`), and metadata with the authors' MIRO + DBSCAN
    parameters of each dataset with ``dbscan.source: published``."""
    local_dir = settings["published"]["local_dir"]
    if local_dir is None:
        return
    root = Path(local_dir)
    if not root.is_dir():
        yield f"published.local_dir: {local_dir} is not a folder"
        return
    for path, names in published_needs(settings).items():
        if not (root / path).is_file():
            yield (
                f"published.local_dir: {local_dir} lacks {path} (dataset {names[0]!r}); it must "
                "be a copy of DeepTrackAI/MIRO with the upstream layout (<local_dir>/<path>)"
            )
    for name, ds in settings["datasets"].items():
        spec = authors_dbscan(ds, "MIRO") if ds["dbscan"]["source"] == "published" else None
        if spec is not None and "metadata" in spec and (root / spec["metadata"]).is_file():
            try:
                read_authors_dbscan(root / spec["metadata"], spec["folder"], spec["params"])
            except PublishedError as err:
                yield f"published.local_dir: {err} (dataset {name!r})"


def figure_datasets(settings: Mapping) -> list[str]:
    """Datasets whose panels show ``example_fov``: Table 1 (Fig. 2), shapes (Fig. 3) and
    multiscale (Fig. 5) datasets."""
    experiments = settings["experiments"]
    table1 = [name for name, ds in settings["datasets"].items() if ds["table1"]]
    named = [*table1, *experiments["shapes"], *experiments["multiscale"]]
    return [name for name in dict.fromkeys(named) if name in settings["datasets"]]


def _example_fov_problems(settings: Mapping) -> Iterator[str]:
    """``example_fov`` must be a test FOV of every dataset with a figure panel; the split is
    the one rule split makes (same FOVs, n_train, paper training FOVs and seed)."""
    fov = settings["example_fov"]
    if fov is None:
        return
    for name in figure_datasets(settings):
        ds = settings["datasets"][name]
        fovs = _fov_numbers(ds)
        try:
            split = split_fovs(
                fovs, n_train=ds["n_train"], train_fovs=ds["train_fovs"], seed=settings["seed"]
            )
        except ValueError:
            continue  # reported by the n_train check
        if fov not in split["test"]:
            where = "a training FOV" if fov in split["train"] else f"not among FOVs 1-{max(fovs)}"
            yield f"example_fov: {fov} is {where} of dataset {name!r}"


def _experiment_problems(settings: Mapping) -> Iterator[str]:
    experiments, datasets = settings["experiments"], settings["datasets"]
    for role in ("shapes", "multiscale"):
        for i, name in enumerate(experiments[role]):
            if name not in datasets:
                yield f"{key_path('experiments', role, i)}: {name!r} is not a configured dataset"
            elif role == "multiscale" and (
                datasets[name]["table1"] or datasets[name]["train"]["k_star"] is None
            ):
                yield (
                    f"experiments.multiscale: dataset {name!r} needs table1: false and "
                    "settings.train.k_star (the first step that squeezes the rings)"
                )
            elif role == "shapes":
                yield from _class_head_problems(name, datasets[name])
    adjacent = experiments["adjacent"]
    if adjacent:
        name = adjacent["dataset"]
        if name not in datasets:
            yield f"experiments.adjacent.dataset: {name!r} is not a configured dataset"
        elif datasets[name]["family"] != "adjacent_pairs":
            yield (
                f"experiments.adjacent.dataset: {name!r} must be simulated with family "
                "adjacent_pairs (its params are reused for the test pairs)"
            )


def _class_head_problems(name: str, ds: Mapping) -> Iterator[str]:
    """A shapes dataset with a published model: the model's class head must predict the
    dataset's shapes, in the order of their class ids."""
    from miro.studies.shapes import shape_names  # numpy and the metrics: schema-valid configs

    model = published_model(ds)
    if model is None:
        return
    try:
        names = shape_names(ds["params"])
    except ValueError:
        return  # reported by the simulation check
    if not model.classes:
        yield (
            f"experiments.shapes: dataset {name!r} uses the published model {model.path}, "
            "which has no class head (the published multishape/models/checkpoint.pt has one)"
        )
    elif list(model.classes[1:]) != names:
        yield (
            f"experiments.shapes: dataset {name!r} simulates shapes {names}, but its published "
            f"model {model.path} classifies {list(model.classes[1:])} (classes 1..C, in order)"
        )


def _ablation_problems(settings: Mapping) -> Iterator[str]:
    from miro.studies.magik import MagikConfig  # torch: only for schema-valid configs

    ablations, datasets = settings["ablations"], settings["datasets"]
    for key in ("width", "loss_weights"):
        name = ablations[key]["dataset"]
        if name is not None and name not in datasets:
            yield f"ablations.{key}.dataset: {name!r} is not a configured dataset"
    for i, name in enumerate(ablations["single_shot"]):
        if name not in datasets or not _single_shot(datasets[name]):
            yield (
                f"ablations.single_shot[{i}]: {name!r} must be a configured dataset with "
                "augment.single_shot: true, or with a published single-shot model"
            )
    magik = ablations["magik"]
    for i, name in enumerate(magik["datasets"]):
        if name not in datasets:
            yield f"ablations.magik.datasets[{i}]: {name!r} is not a configured dataset"
    try:
        MagikConfig(**{k: v for k, v in magik.items() if k != "datasets"})
    except ValueError as err:
        yield str(err)


def _single_shot(ds: Mapping) -> bool:
    """A dataset's MIRO learned from one annotated cluster (Supp. Table 5): trained with
    ``augment.single_shot``, or a published single-shot model."""
    model = published_model(ds)
    return model.kind == "single-shot" if model is not None else ds["augment"]["single_shot"]


def _apply_problems(config: Mapping, settings: Mapping) -> Iterator[str]:
    from miro.applications.apply import INPUT_SUFFIXES

    if not config.get("apply"):
        return
    apply = settings["apply"]
    if apply["dataset"] not in settings["datasets"]:
        yield f"apply.dataset: {apply['dataset']!r} is not a configured dataset"
    example, input_dir = apply["example"], apply["input_dir"]
    if (example is None) == (input_dir is None):
        yield "apply: give either input_dir or example (a simulated input), not both or neither"
    elif example is not None:
        yield from _simulation_problems(
            "apply.example", example["simulate"], example.get("params") or {}
        )
    elif not Path(input_dir).is_dir():
        yield f"apply.input_dir: {input_dir} is not a folder"
    else:
        stems = [p.stem for p in Path(input_dir).iterdir() if p.suffix.lower() in INPUT_SUFFIXES]
        if not stems or len(set(stems)) < len(stems):
            yield (
                f"apply.input_dir: {input_dir} needs *.csv / *.tsv files with distinct stems, "
                f"found {_short(sorted(stems))}"
            )


# ------------------------------------------------------------------------------ command line
def main(argv: Sequence[str] | None = None) -> int:
    """``python -m miro.config check [--syntax] FILE...``: exit 0 when the files (merged in
    order, as Snakemake merges ``--configfile`` files) are a valid config, 2 otherwise."""
    parser = argparse.ArgumentParser(
        prog="python -m miro.config", description=__doc__.split("\n")[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("check", help="check config files before a run")
    check.add_argument("files", nargs="+", type=Path)
    check.add_argument("--syntax", action="store_true", help="check the YAML syntax only")
    args = parser.parse_args(argv)
    try:
        config: dict[str, Any] = {}
        for path in args.files:
            config = _update(config, read_config(path))
        if not args.syntax:
            load_settings(config, ", ".join(map(str, args.files)))
    except ConfigError as err:
        print(err, file=sys.stderr)
        return 2
    return 0


def _update(base: dict, override: Mapping) -> dict:
    """Snakemake's merge of config files: nested dicts merged, everything else replaced."""
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = _update(out[key], value)
        else:
            out[key] = value
    return out


if __name__ == "__main__":
    sys.exit(main())
