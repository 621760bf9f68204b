"""MAGIK-S baseline (config ``ablations.magik``; Supp. Table 6): a two-stage supervised GNN
(`miro.studies.magik`) trained per dataset on the graphs MIRO trains on, evaluated on the same test
FOVs as MIRO + DBSCAN -> results/ablations/magik.{csv,md}; models, losses and per-FOV metrics
in results/ablations/magik/{ds}/.
"""

from dataclasses import asdict

from miro.studies.magik import magik_config

# MAGIK_DATASETS and MAGIK_DIR: common.smk (the training outputs list these models too)
MAGIK = magik_config(SETTINGS["ablations"]["magik"], seed=SETTINGS["seed"])


rule magik_train:
    input:
        graphs=f"{RESULTS}/{{ds}}/augment/graphs.pt",
    output:
        model=f"{MAGIK_DIR}/{{ds}}/model.pt",
        losses=f"{MAGIK_DIR}/{{ds}}/losses.csv",
    log:
        f"{RESULTS}/logs/ablations/magik_train_{{ds}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/ablations/magik_train_{{ds}}.tsv"
    conda:
        "../../envs/miro.yaml"
    threads: 2
    resources:
        mem_mb=8000,
        runtime=240,
        gpu=1,
        gpu_slots=1,
    params:
        config={k: v for k, v in asdict(MAGIK).items() if k != "device"},
    script:
        "../scripts/magik_train.py"


rule magik_evaluate:
    input:
        model=f"{MAGIK_DIR}/{{ds}}/model.pt",
        fovs=f"{RESULTS}/{{ds}}/data/fovs",
        split=f"{RESULTS}/{{ds}}/split.json",
    output:
        f"{MAGIK_DIR}/{{ds}}/metrics.csv",
    log:
        f"{RESULTS}/logs/ablations/magik_evaluate_{{ds}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/ablations/magik_evaluate_{{ds}}.tsv"
    conda:
        "../../envs/miro.yaml"
    threads: 1
    resources:
        mem_mb=8000,
        runtime=60,
    script:
        "../scripts/magik_evaluate.py"


rule magik_table:
    input:
        magik_models=expand(f"{MAGIK_DIR}/{{ds}}/model.pt", ds=MAGIK_DATASETS),
        magik_metrics=expand(f"{MAGIK_DIR}/{{ds}}/metrics.csv", ds=MAGIK_DATASETS),
        miro_models=[checkpoint_of(ds, MAIN) for ds in MAGIK_DATASETS],
        miro_metrics=[run_path(ds, MAIN, "metrics.csv") for ds in MAGIK_DATASETS],
    output:
        csv=report(
            f"{RESULTS}/ablations/magik.csv",
            caption="../report/magik.rst",
            category="Ablations",
        ),
        md=f"{RESULTS}/ablations/magik.md",
    log:
        f"{RESULTS}/logs/ablations/magik.log",
    benchmark:
        f"{RESULTS}/benchmarks/ablations/magik.tsv"
    conda:
        "../../envs/miro.yaml"
    params:
        datasets=MAGIK_DATASETS,
        preset=SETTINGS["preset"],
    script:
        "../scripts/magik_table.py"
