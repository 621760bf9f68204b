"""Resolved settings and input functions shared by all rules."""

import re
from types import SimpleNamespace
from pathlib import Path

DATASETS = list(SETTINGS["datasets"])
TABLE1_DATASETS = [ds for ds in DATASETS if SETTINGS["datasets"][ds]["table1"]]
SINGLE_SHOT_DATASETS = SETTINGS["ablations"]["single_shot"]
METHODS = ["DBSCAN", "MIRO"]
RESULTS = "results"
RESOURCES = Path(workflow.basedir) / "resources"


wildcard_constraints:
    ds="|".join(re.escape(d) for d in DATASETS),
    method="|".join(METHODS),
    chunk=r"\d+",


def ds_settings(wildcards):
    return SETTINGS["datasets"][wildcards.ds]


def augment_chunks(wildcards):
    n = ds_settings(wildcards)["augment"]["chunks"]
    return expand(
        f"{RESULTS}/{{ds}}/augment/chunk_{{chunk}}.pt", ds=wildcards.ds, chunk=range(n)
    )


def model_checkpoint(wildcards):
    if ds_settings(wildcards)["model"]["source"] == "published":
        return f"{RESULTS}/{wildcards.ds}/model/published.pt"
    return f"{RESULTS}/{wildcards.ds}/model/model.pt"


def clustering_coords(wildcards):
    """Plain DBSCAN clusters the raw localizations; MIRO + DBSCAN the squeezed ones."""
    if wildcards.method == "MIRO":
        return [f"{RESULTS}/{wildcards.ds}/transform/squeezed.csv.gz"]
    return []


def final_outputs():
    """Table 1 flow outputs, over the datasets with ``table1: true``."""
    if not TABLE1_DATASETS:
        return []
    tables = expand(
        f"{RESULTS}/tables/{{name}}",
        name=[
            "table1.csv",
            "table1.md",
            "table1.tex",
            "stats.csv",
            "scorecard.csv",
            "scorecard.md",
        ],
    )
    figures = expand(
        f"{RESULTS}/figures/fig2_{{ds}}.{{ext}}", ds=TABLE1_DATASETS, ext=["png", "pdf"]
    )
    return tables + figures


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
