"""Experiments beyond Table 1 (config section ``experiments``), on configured datasets.

- ``shapes``: clustering + classification of shape mixtures (Fig. 3) -> results/<ds>/shapes/
- ``multiscale``: spot and ring levels of NPC-like structures (Figs. 1, 5a-b)
  -> results/<ds>/multiscale/
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
        model=model_checkpoint,
        labels=f"{RESULTS}/{{ds}}/labels/MIRO.csv.gz",
    output:
        classes=f"{RESULTS}/{{ds}}/shapes/classes.csv.gz",
        pairs=f"{RESULTS}/{{ds}}/shapes/pairs.csv",
        confusion=report(
            f"{RESULTS}/{{ds}}/shapes/confusion.csv",
            caption="../report/confusion.rst",
            category="Experiments",
            subcategory="{ds}",
        ),
    log:
        f"{RESULTS}/logs/classify_shapes/{{ds}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/classify_shapes/{{ds}}.tsv"
    conda:
        "../../envs/miro.yaml"
    threads: 2
    params:
        names=lambda wildcards: shape_names(ds_settings(wildcards)["params"]),
        device=SETTINGS["device"],
    script:
        "../scripts/classify_shapes.py"


rule fig3:
    input:
        fovs=f"{RESULTS}/{{ds}}/data/fovs",
        split=f"{RESULTS}/{{ds}}/split.json",
        labels=f"{RESULTS}/{{ds}}/labels/MIRO.csv.gz",
        classes=f"{RESULTS}/{{ds}}/shapes/classes.csv.gz",
        confusion=f"{RESULTS}/{{ds}}/shapes/confusion.csv",
        metrics=f"{RESULTS}/{{ds}}/metrics.csv",
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
rule multiscale_squeeze:
    input:
        model=model_checkpoint,
        fovs=f"{RESULTS}/{{ds}}/data/fovs",
    output:
        expand(
            f"{RESULTS}/{{{{ds}}}}/multiscale/squeezed_{{level}}.csv.gz", level=LEVELS
        ),
    log:
        f"{RESULTS}/logs/multiscale_squeeze/{{ds}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/multiscale_squeeze/{{ds}}.tsv"
    conda:
        "../../envs/miro.yaml"
    threads: 2
    params:
        levels=list(LEVELS),
        device=SETTINGS["device"],
    script:
        "../scripts/multiscale_squeeze.py"


rule multiscale_dbscan:
    input:
        fovs=f"{RESULTS}/{{ds}}/data/fovs",
        split=f"{RESULTS}/{{ds}}/split.json",
        squeezed=f"{RESULTS}/{{ds}}/multiscale/squeezed_{{level}}.csv.gz",
    output:
        params=f"{RESULTS}/{{ds}}/multiscale/dbscan/{{level}}_{{method}}.json",
        trials=f"{RESULTS}/{{ds}}/multiscale/dbscan/{{level}}_{{method}}_trials.csv",
    log:
        f"{RESULTS}/logs/multiscale_dbscan/{{ds}}_{{level}}_{{method}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/multiscale_dbscan/{{ds}}_{{level}}_{{method}}.tsv"
    conda:
        "../../envs/miro.yaml"
    params:
        settings=ds_settings,
        seed=SETTINGS["seed"],
        study=lambda wildcards: (
            f"{RESULTS}/{wildcards.ds}/multiscale/dbscan/"
            f"{wildcards.level}_{wildcards.method}_study.db"
        ),
    script:
        "../scripts/multiscale_dbscan.py"


rule multiscale_evaluate:
    input:
        fovs=f"{RESULTS}/{{ds}}/data/fovs",
        split=f"{RESULTS}/{{ds}}/split.json",
        squeezed=expand(
            f"{RESULTS}/{{{{ds}}}}/multiscale/squeezed_{{level}}.csv.gz", level=LEVELS
        ),
        params=[  # level-major order, as the script reads them
            f"{RESULTS}/{{ds}}/multiscale/dbscan/{level}_{method}.json"
            for level in LEVELS
            for method in METHODS
        ],
    output:
        labels=expand(
            f"{RESULTS}/{{{{ds}}}}/multiscale/labels_{{level}}.csv.gz", level=LEVELS
        ),
        metrics=f"{RESULTS}/{{ds}}/multiscale/metrics.csv",
        stats=report(
            f"{RESULTS}/{{ds}}/multiscale/stats.csv",
            caption="../report/multiscale_stats.rst",
            category="Experiments",
            subcategory="{ds}",
        ),
    log:
        f"{RESULTS}/logs/multiscale_evaluate/{{ds}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/multiscale_evaluate/{{ds}}.tsv"
    conda:
        "../../envs/miro.yaml"
    params:
        levels=list(LEVELS),
        methods=METHODS,
    script:
        "../scripts/multiscale_evaluate.py"


rule fig5:
    input:
        fovs=f"{RESULTS}/{{ds}}/data/fovs",
        split=f"{RESULTS}/{{ds}}/split.json",
        labels=expand(
            f"{RESULTS}/{{{{ds}}}}/multiscale/labels_{{level}}.csv.gz", level=LEVELS
        ),
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
        example_fov=SETTINGS["example_fov"],
    script:
        "../scripts/fig5.py"


# ----------------------------------------------------------------------------- adjacent (Fig. 4a)
rule adjacent_scan:
    input:
        model=model_checkpoint,
        params=expand(f"{RESULTS}/{{{{ds}}}}/dbscan/{{method}}.json", method=METHODS),
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
        settings=ds_settings,
        methods=METHODS,
        distances=ADJACENT["distances"] if ADJACENT else [],
        n_fovs=ADJACENT["n_fovs"] if ADJACENT else 0,
        seed=SETTINGS["seed"],
        device=SETTINGS["device"],
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
