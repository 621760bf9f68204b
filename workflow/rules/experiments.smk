"""Experiments beyond Table 1 (config section ``experiments``), on configured datasets.

- ``shapes``: clustering + classification of shape mixtures (Fig. 3) -> results/<ds>/<run>/shapes/
  (every run of a model with a class head: the dataset's own and the ablation variants)
- ``multiscale``: spot and ring levels of NPC-like structures (Figs. 1, 5a-b): the runs
  ``spots`` and ``rings`` of the dataset's MIRO (`miro.studies.runs`) -> results/<ds>/multiscale/
- ``adjacent``: JI_c of adjacent cluster pairs against their distance (Fig. 4a)
  -> results/adjacent/<ds>/
Figures go to results/figures/{fig3,fig5,fig4a}_<ds>.{png,pdf}.
"""

from functools import partial

from miro.studies.shapes import shape_names
from miro.studies.experiments import experiment_targets
from miro.studies.multiscale import LEVELS

ADJACENT = SETTINGS["experiments"]["adjacent"]
# final files of the experiments ([] without an ``experiments`` section), for rule all
experiment_outputs = partial(experiment_targets, SETTINGS, RESULTS)


wildcard_constraints:
    level="|".join(LEVELS),


# ----------------------------------------------------------------------------- shapes (Fig. 3)
rule classify_shapes:
    input:
        fovs=f"{RESULTS}/{{ds}}/data/fovs",
        split=f"{RESULTS}/{{ds}}/split.json",
        model=run_model,
        labels=run_file("labels/MIRO.csv.gz"),
    output:
        classes=f"{RESULTS}/{{ds}}/{{run}}/shapes/classes.csv.gz",
        pairs=f"{RESULTS}/{{ds}}/{{run}}/shapes/pairs.csv",
        confusion=report(
            f"{RESULTS}/{{ds}}/{{run}}/shapes/confusion.csv",
            caption="../report/confusion.rst",
            category="Experiments",
            subcategory="{ds}",
        ),
    log:
        f"{RESULTS}/logs/classify_shapes/{{ds}}/{{run}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/classify_shapes/{{ds}}/{{run}}.tsv"
    conda:
        "../../envs/miro.yaml"
    threads: 2
    params:
        names=lambda wildcards: shape_names(ds_settings(wildcards)["params"]),
    script:
        "../scripts/classify_shapes.py"


rule fig3:
    input:
        fovs=f"{RESULTS}/{{ds}}/data/fovs",
        split=f"{RESULTS}/{{ds}}/split.json",
        labels=f"{RESULTS}/{{ds}}/{MAIN}/labels/MIRO.csv.gz",
        classes=f"{RESULTS}/{{ds}}/{MAIN}/shapes/classes.csv.gz",
        confusion=f"{RESULTS}/{{ds}}/{MAIN}/shapes/confusion.csv",
        metrics=f"{RESULTS}/{{ds}}/{MAIN}/metrics.csv",
    output:
        png=report(
            f"{RESULTS}/figures/fig3_{{ds}}.png",
            caption="../report/fig3.rst",
            category="Experiments",
            subcategory="{ds}",
        ),
        pdf=f"{RESULTS}/figures/fig3_{{ds}}.pdf",
    log:
        f"{RESULTS}/logs/fig3/{{ds}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/fig3/{{ds}}.tsv"
    conda:
        "../../envs/miro.yaml"
    params:
        names=lambda wildcards: shape_names(ds_settings(wildcards)["params"]),
        example_fov=SETTINGS["example_fov"],
    script:
        "../scripts/fig3.py"


# ------------------------------------------------------------------ multiscale (Figs. 1, 5a-b)
rule multiscale_evaluate:
    input:
        [f"{RESULTS}/{{ds}}/{level}/metrics.csv" for level in LEVELS],
    output:
        metrics=f"{RESULTS}/{{ds}}/multiscale/metrics.csv",
        stats=report(
            f"{RESULTS}/{{ds}}/multiscale/stats.csv",
            caption="../report/multiscale_stats.rst",
            category="Experiments",
            subcategory="{ds}",
        ),
    log:
        f"{RESULTS}/logs/multiscale_evaluate/{{ds}}.log",
    conda:
        "../../envs/miro.yaml"
    params:
        levels=list(LEVELS),
    script:
        "../scripts/multiscale_evaluate.py"


rule fig5:
    input:
        fovs=f"{RESULTS}/{{ds}}/data/fovs",
        split=f"{RESULTS}/{{ds}}/split.json",
        labels=[
            f"{RESULTS}/{{ds}}/{level}/labels/{method}.csv.gz"
            for level in LEVELS
            for method in METHODS
        ],
        metrics=f"{RESULTS}/{{ds}}/multiscale/metrics.csv",
        stats=f"{RESULTS}/{{ds}}/multiscale/stats.csv",
    output:
        png=report(
            f"{RESULTS}/figures/fig5_{{ds}}.png",
            caption="../report/fig5.rst",
            category="Experiments",
            subcategory="{ds}",
        ),
        pdf=f"{RESULTS}/figures/fig5_{{ds}}.pdf",
    log:
        f"{RESULTS}/logs/fig5/{{ds}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/fig5/{{ds}}.tsv"
    conda:
        "../../envs/miro.yaml"
    params:
        levels=list(LEVELS),
        methods=METHODS,
        example_fov=SETTINGS["example_fov"],
    script:
        "../scripts/fig5.py"


# ----------------------------------------------------------------------------- adjacent (Fig. 4a)
rule adjacent_scan:
    input:
        model=lambda wildcards: checkpoint_of(wildcards.ds, MAIN),
        params=expand(
            f"{RESULTS}/{{{{ds}}}}/{MAIN}/dbscan/{{method}}.json", method=METHODS
        ),
    output:
        scan=f"{RESULTS}/adjacent/{{ds}}/jic.csv",
        summary=report(
            f"{RESULTS}/adjacent/{{ds}}/summary.csv",
            caption="../report/adjacent.rst",
            category="Experiments",
            subcategory="{ds}",
        ),
    log:
        f"{RESULTS}/logs/adjacent_scan/{{ds}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/adjacent_scan/{{ds}}.tsv"
    conda:
        "../../envs/miro.yaml"
    threads: 2
    params:
        settings=sliced("params"),
        methods=METHODS,
        distances=ADJACENT["distances"] if ADJACENT else [],
        n_fovs=ADJACENT["n_fovs"] if ADJACENT else 0,
        seed=SETTINGS["seed"],
    script:
        "../scripts/adjacent_scan.py"


rule fig4a:
    input:
        scan=f"{RESULTS}/adjacent/{{ds}}/jic.csv",
        summary=f"{RESULTS}/adjacent/{{ds}}/summary.csv",
    output:
        png=report(
            f"{RESULTS}/figures/fig4a_{{ds}}.png",
            caption="../report/fig4a.rst",
            category="Experiments",
            subcategory="{ds}",
        ),
        pdf=f"{RESULTS}/figures/fig4a_{{ds}}.pdf",
    log:
        f"{RESULTS}/logs/fig4a/{{ds}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/fig4a/{{ds}}.tsv"
    conda:
        "../../envs/miro.yaml"
    script:
        "../scripts/fig4a.py"
