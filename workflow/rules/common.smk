"""Resolved settings and input functions shared by all rules."""

import re
from pathlib import Path

from miro.settings import resolve_config

SETTINGS = resolve_config(config)
DATASETS = list(SETTINGS["datasets"])
TABLE1_DATASETS = [ds for ds in DATASETS if SETTINGS["datasets"][ds]["table1"]]
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
