"""Resolved settings and input functions shared by all rules.

Every rule's ``params`` carry exactly the values its script uses (the ``*_params`` functions
below, slices of the resolved settings), so that a config change re-runs only what depends on
it. Execution-only settings (device, worker processes, benchmark access) are not params: scripts
read them with `miro.config.execution_settings`, and changing them re-runs nothing.
"""

import re
from pathlib import Path

from miro.config import (
    authors_dbscan,
    dbscan_table_datasets,
    published_import,
    settings_slice,
)
from miro.data.published_files import load_manifest
from miro.outputs.tables import read_paper_table1
from miro.studies.ablations import STEPS_DATASET, steps_data_settings
from miro.studies.runs import (
    MAIN,
    dataset_runs,
    imports_published,
    run_dir,
    trained_runs,
)

DATASETS = list(SETTINGS["datasets"])  # the configured datasets
TABLE1_DATASETS = [ds for ds in DATASETS if SETTINGS["datasets"][ds]["table1"]]
SINGLE_SHOT_DATASETS = SETTINGS["ablations"]["single_shot"]
# data of the recurrent-steps ablation: served by the same data rules as configured datasets
DATA_SETTINGS = dict(SETTINGS["datasets"])
if "steps" in (config.get("ablations") or {}):
    DATA_SETTINGS[STEPS_DATASET] = steps_data_settings(SETTINGS["ablations"]["steps"])
METHODS = ["DBSCAN", "MIRO"]
RESULTS = "results"
RESOURCES = ROOT / "resources"
PAPER_TABLE1 = RESOURCES / "paper_table1.csv"
#: Table 1 datasets the paper reports (paper_name in its Table 1): the scorecard's; none of
#: the user's own data (source local has no paper_name)
SCORECARD_DATASETS = [
    ds
    for ds in TABLE1_DATASETS
    if SETTINGS["datasets"][ds]["paper_name"]
    in set(read_paper_table1(PAPER_TABLE1)["dataset"])
]


wildcard_constraints:
    ds="|".join(re.escape(d) for d in DATA_SETTINGS),
    method="|".join(METHODS),


def ds_settings(wildcards):
    return DATA_SETTINGS[wildcards.ds]


def sliced(*keys, seed=False):
    """Input function: the dataset's settings restricted to ``keys`` (dotted paths), plus the
    workflow seed when ``seed``."""

    def params(wildcards):
        out = settings_slice(ds_settings(wildcards), keys)
        return out | {"seed": SETTINGS["seed"]} if seed else out

    return params


def data_params(wildcards):
    """What defines a dataset's FOVs: the benchmark folder, how the user's files are read (the
    files are inputs: `local_inputs`), or the simulation and its seed."""
    settings = ds_settings(wildcards)
    if settings["source"] == "benchmark":
        return settings_slice(settings, ["source", "folder"])
    if settings["source"] == "local":
        keys = ["source", "local.format", "local.columns", "local.label_column"]
        return settings_slice(settings, keys)
    keys = ["source", "family", "n_fovs", "params"]
    return settings_slice(settings, keys) | {"seed": SETTINGS["seed"]}


def local_inputs(wildcards):
    """The annotated files of a ``source: local`` dataset, in FOV order (`miro.config`
    lists them); none for other sources."""
    local = ds_settings(wildcards)["local"]
    return [str(Path(local["path"]) / name) for name in local["files"]] if local else []


#: values each rule's script reads from the dataset settings (see the scripts)
SPLIT_KEYS = ("n_train", "train_fovs")
AUGMENT_KEYS = (
    "folder",
    "params",
    "augment.n_graphs",
    "augment.single_shot",
    "model.radius",
)
TRAIN_KEYS = (
    "model.width",
    "model.steps",
    "model.radius",
    "model.num_classes",
    "train",
)
TUNING_KEYS = tuple(
    f"dbscan.{k}"
    for k in ("tuning_fovs", "objective", "n_trials", "eps_nm", "min_samples")
)


# the authors' files, as results/published/<path in their repository>
PUBLISHED_DIR = f"{RESULTS}/published"
PUBLISHED_MANIFEST = load_manifest(RESOURCES / "published_checkpoints.tsv")
# the authors' files other than checkpoints (metadata, single-shot training clusters)
PUBLISHED_METADATA_PATHS = [
    path for path in PUBLISHED_MANIFEST["path"] if not path.endswith(".pt")
]


def published_file(spec):
    """Where the workflow keeps the authors' metadata file of an `authors_dbscan` spec; None
    for parameters that need none."""
    return (
        f"{PUBLISHED_DIR}/{spec['metadata']}" if spec and "metadata" in spec else None
    )


def published_miro_dbscan(wildcards):
    """True when the run's MIRO + DBSCAN takes the authors' parameters (``dbscan.source:
    published``, the dataset's own MIRO only)."""
    settings = ds_settings(wildcards)
    return (
        wildcards.method == "MIRO"
        and wildcards.run == MAIN
        and settings["dbscan"]["source"] == "published"
    )


def dbscan_params(wildcards):
    """DBSCAN parameters' definition for one run and method: the published baseline, the
    authors' MIRO + DBSCAN parameters (miro.config.authors_dbscan: an entry of a pinned
    metadata file, or the values of their code), or the Optuna study (its search settings,
    seed and the ground truth it scores against)."""
    settings = ds_settings(wildcards)
    if wildcards.method == "DBSCAN" and settings["dbscan"]["baseline"] == "published":
        if wildcards.run == MAIN:
            return settings_slice(settings, ["dbscan.baseline", "published_dbscan"])
    if published_miro_dbscan(wildcards):
        authors = authors_dbscan(settings, "MIRO")
        return settings_slice(settings, ["dbscan.source"]) | {"authors": authors}
    study = settings_slice(settings, TUNING_KEYS)
    return study | {"seed": SETTINGS["seed"], "truth": run_of(wildcards).truth}


def augment_threads(wildcards):
    return ds_settings(wildcards)["augment"]["chunks"]


# --- runs: every model of a dataset and its evaluation, results/{ds}/{run}/ (miro.studies.runs)
RUNS = dataset_runs(SETTINGS, DATA_SETTINGS)


RUN_NAMES = sorted({re.escape(run) for runs in RUNS.values() for run in runs})


wildcard_constraints:
    run="|".join(RUN_NAMES),


def run_of(wildcards):
    return RUNS[wildcards.ds][wildcards.run]


def run_path(ds, run, name):
    """A file of one run (the one path scheme, `miro.studies.runs`)."""
    return f"{run_dir(RESULTS, ds, run)}/{name}"


def checkpoint_of(ds, run):
    """The checkpoint a run trains, or the published weights of a dataset's own MIRO."""
    if imports_published(DATA_SETTINGS, ds, run):
        return run_path(ds, MAIN, "published.pt")
    return run_path(ds, run, "model.pt")


def run_model(wildcards):
    """Input function: the checkpoint whose model squeezes the run's FOVs."""
    return checkpoint_of(wildcards.ds, run_of(wildcards).model_of)


def run_file(name):
    """Input function: a file of the wildcards' run."""
    return lambda wildcards: run_path(wildcards.ds, wildcards.run, name)


def dbscan_metadata(wildcards):
    """The authors' metadata file when the run's MIRO + DBSCAN takes their parameters from one
    (benchmark/metadata.json, single-shot/metadata.json), else nothing."""
    if not published_miro_dbscan(wildcards):
        return []
    path = published_file(authors_dbscan(ds_settings(wildcards), "MIRO"))
    return [path] if path else []


def clustering_coords(wildcards):
    """Plain DBSCAN clusters the raw localizations; MIRO + DBSCAN the run's squeezed ones."""
    if wildcards.method == "MIRO":
        return [run_path(wildcards.ds, wildcards.run, "squeezed.csv.gz")]
    return []


def tuning_coords(wildcards):
    """The coordinates DBSCAN is tuned on: those it clusters, or none when the authors'
    parameters are taken as they are."""
    return [] if published_miro_dbscan(wildcards) else clustering_coords(wildcards)


def run_labels(wildcards):
    """Input function: the labels of every method the run scores."""
    methods = run_of(wildcards).methods
    return [
        run_path(wildcards.ds, wildcards.run, f"labels/{m}.csv.gz") for m in methods
    ]


# the DBSCAN-parameter table (Supp. Tables 1-2): every method of its datasets' own MIRO runs
DBSCAN_TABLE = [
    {"dataset": ds, "method": m, "authors": authors_dbscan(DATA_SETTINGS[ds], m)}
    for ds in dbscan_table_datasets(SETTINGS)
    for m in METHODS
]
DBSCAN_TABLE_METADATA = sorted(
    {e["authors"]["metadata"] for e in DBSCAN_TABLE if published_file(e["authors"])}
)


def final_outputs():
    """Table 1 flow outputs, over the datasets with ``table1: true`` (the scorecard over those
    the paper reports, when there are any), and the DBSCAN-parameter table (its datasets and
    those of the single-shot table)."""
    dbscan = expand(f"{RESULTS}/tables/dbscan_params.{{ext}}", ext=["csv", "md"])
    if not TABLE1_DATASETS:
        return dbscan if DBSCAN_TABLE else []
    names = ["table1.csv", "table1.md", "table1.tex", "stats.csv"]
    if SCORECARD_DATASETS:
        names += ["scorecard.csv", "scorecard.md"]
    tables = expand(f"{RESULTS}/tables/{{name}}", name=names)
    figures = expand(
        f"{RESULTS}/figures/fig2_{{ds}}.{{ext}}", ds=TABLE1_DATASETS, ext=["png", "pdf"]
    )
    return tables + dbscan + figures


# --- parameter landscapes (Supp. Fig. 1) of the Table 1 datasets (workflow/rules/landscape.smk)
LANDSCAPE = SETTINGS["landscape"]
LANDSCAPE_DATASETS = TABLE1_DATASETS if LANDSCAPE["enabled"] else []


def landscape_params(wildcards):
    """The grid: the dataset's DBSCAN search ranges and the landscape settings (FOVs, points)."""
    grid = {k: LANDSCAPE[k] for k in ("fovs", "eps_points", "min_samples_points")}
    return sliced("dbscan.eps_nm", "dbscan.min_samples")(wildcards) | {
        "landscape": grid
    }


def landscape_outputs():
    """A landscape figure per Table 1 dataset and the summary table; [] when disabled."""
    if not LANDSCAPE_DATASETS:
        return []
    figures = expand(f"{RESULTS}/figures/landscape/{{ds}}.png", ds=LANDSCAPE_DATASETS)
    return figures + expand(f"{RESULTS}/tables/landscape.{{ext}}", ext=["csv", "md"])


# --- training: a loss curve per trained model and the training table (report.smk)
MAGIK_DATASETS = SETTINGS["ablations"]["magik"]["datasets"]
MAGIK_DIR = f"{RESULTS}/ablations/magik"
# the name of a dataset's MAGIK-S model (workflow/rules/magik.smk) in these outputs
MAGIK_MODEL = "magik"
#: (dataset, model) of every model the configured datasets train: each run that trains its
#: own network (rule train; not the published weights) and each MAGIK-S model
TRAINED_MODELS = trained_runs(RUNS, DATA_SETTINGS, DATASETS) + [
    (ds, MAGIK_MODEL) for ds in MAGIK_DATASETS
]


def training_files(ds, model):
    """losses.csv and the checkpoint of one trained model: a run's or MAGIK-S's."""
    magik = model == MAGIK_MODEL
    folder = f"{MAGIK_DIR}/{ds}" if magik else run_dir(RESULTS, ds, model)
    return {"losses": f"{folder}/losses.csv", "model": f"{folder}/model.pt"}


def training_outputs():
    """The loss curve of every trained model and the training table; [] when none trains."""
    if not TRAINED_MODELS:
        return []
    curves = [f"{RESULTS}/figures/losses/{ds}_{m}.png" for ds, m in TRAINED_MODELS]
    return curves + [f"{RESULTS}/tables/training.csv"]


# --- ablations: inputs of the summary rules (workflow/rules/ablations.smk)
from miro.studies.ablations import ablation_variants, class_names

STEPS_RUNS = RUNS.get(STEPS_DATASET, {})
STEPS_DATA = DATA_SETTINGS.get(STEPS_DATASET)
LOSS_WEIGHTS = SETTINGS["ablations"]["loss_weights"]


def steps_metrics(select):
    """steps_metrics files of the steps ablation's runs whose labels pass ``select``."""
    return [
        run_path(STEPS_DATASET, run, "steps_metrics.csv")
        for run, spec in STEPS_RUNS.items()
        if select(spec.labels)
    ]


def variant_files(ablation):
    """Per-variant inputs of the width or loss-weight table, in table order."""
    ds = SETTINGS["ablations"][ablation]["dataset"]
    runs = [name for _, name in ablation_variants(SETTINGS, ablation)]
    files = {
        "metrics": [run_path(ds, run, "metrics.csv") for run in runs],
        "models": [run_path(ds, run, "model.pt") for run in runs],
        "dbscan": [run_path(ds, run, "dbscan/MIRO.json") for run in runs],
    }
    if runs and class_names(DATA_SETTINGS[ds]):
        files["confusion"] = [run_path(ds, run, "shapes/confusion.csv") for run in runs]
    return files


# --- apply: a dataset's trained MIRO on the user's own files (workflow/rules/apply.smk)
from miro.applications.apply import INPUT_SUFFIXES

APPLY = SETTINGS["apply"]
APPLY_FILES = [
    "labels.csv",
    "clusters_miro.csv",
    "clusters_dbscan.csv",
    "map.png",
    "histograms.png",
]


def apply_inputs():
    """Input file of every stem; {} without an ``apply`` section (checked by
    miro.config.load_settings)."""
    if not config.get("apply"):
        return {}
    example = APPLY["example"]
    if example is not None:
        return {
            f"acquisition_{i}": f"{RESULTS}/apply/input/acquisition_{i}.csv"
            for i in range(1, example.get("n_files", 1) + 1)
        }
    folder = Path(APPLY["input_dir"])
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in INPUT_SUFFIXES)
    return {p.stem: str(p) for p in files}


APPLY_INPUTS = apply_inputs()


def apply_outputs():
    """Final files of the apply rule; [] without an ``apply`` section."""
    return expand(
        f"{RESULTS}/apply/{{stem}}.{{name}}", stem=list(APPLY_INPUTS), name=APPLY_FILES
    )
