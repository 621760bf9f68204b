"""Ablations (config section ``ablations``) and the hyper-parameter table.

- ``steps`` (Supp. Fig. 2): MIRO against a conventional message-passing GNN of the same depth,
  both trained on simulated Scenario 6 with blinking, for every depth x repeat (seed = repeat)
  -> results/ablations/steps.{csv,png,pdf}; data, models and per-model metrics in
  results/ablations/steps/. The data rules reuse the scripts of data.smk.
- ``hyperparameters`` (Supp. Table 7): the settings of every configured dataset's model, read
  from its checkpoint -> results/tables/hyperparameters.{csv,md}.
"""

from functools import partial
from types import SimpleNamespace

from miro.ablation import ablation_targets, steps_data_settings, steps_targets

STEPS = SETTINGS["ablations"]["steps"]
STEPS_DATA = steps_data_settings(STEPS)
STEPS_DIR = f"{RESULTS}/ablations/steps"
STEPS_RUN = "{arch}_L{depth}_r{repeat}"  # one trained network
ARCHITECTURES = ["miro", "mpnn"]


# final files for rule all: the hyper-parameter table, the steps ablation if configured
ablation_outputs = partial(ablation_targets, config, RESULTS)


rule ablations:
    input:
        steps_targets(RESULTS),


# ------------------------------------------------------------ recurrent steps (Supp. Fig. 2)
rule steps_ablation_data:
    output:
        directory(f"{STEPS_DIR}/data/fovs"),
    log:
        f"{RESULTS}/logs/ablations/steps_data.log",
    benchmark:
        f"{RESULTS}/benchmarks/ablations/steps_data.tsv"
    conda:
        "../../envs/miro.yaml"
    params:
        settings=STEPS_DATA,
        benchmark=SETTINGS["benchmark"],
        manifest=RESOURCES / "benchmark_manifest.tsv",
        seed=SETTINGS["seed"],
    script:
        "../scripts/obtain.py"


rule steps_ablation_split:
    input:
        f"{STEPS_DIR}/data/fovs",
    output:
        f"{STEPS_DIR}/split.json",
    log:
        f"{RESULTS}/logs/ablations/steps_split.log",
    conda:
        "../../envs/miro.yaml"
    params:
        settings=STEPS_DATA,
        seed=SETTINGS["seed"],
    script:
        "../scripts/split.py"


rule steps_ablation_augment:
    input:
        fovs=f"{STEPS_DIR}/data/fovs",
        split=f"{STEPS_DIR}/split.json",
    output:
        f"{STEPS_DIR}/augment/chunk_{{chunk}}.pt",
    log:
        f"{RESULTS}/logs/ablations/steps_augment_{{chunk}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/ablations/steps_augment_{{chunk}}.tsv"
    conda:
        "../../envs/miro.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
    params:
        settings=STEPS_DATA,
        seed=SETTINGS["seed"],
    script:
        "../scripts/augment.py"


rule steps_ablation_train:
    input:
        graphs=expand(
            f"{STEPS_DIR}/augment/chunk_{{chunk}}.pt",
            chunk=range(STEPS_DATA["augment"]["chunks"]),
        ),
    output:
        f"{STEPS_DIR}/models/{STEPS_RUN}.pt",
    log:
        f"{RESULTS}/logs/ablations/steps_train_{STEPS_RUN}.log",
    benchmark:
        f"{RESULTS}/benchmarks/ablations/steps_train_{STEPS_RUN}.tsv"
    wildcard_constraints:
        arch="|".join(ARCHITECTURES),
        depth=r"\d+",
        repeat=r"\d+",
    conda:
        "../../envs/miro.yaml"
    threads: 2
    resources:
        mem_mb=8000,
        runtime=240,
        gpu=1,
    params:
        settings=STEPS_DATA,
        device=SETTINGS["device"],
        workdir=f"{STEPS_DIR}/work/{STEPS_RUN}",
    script:
        "../scripts/steps_ablation_train.py"


rule steps_ablation_evaluate:
    input:
        model=f"{STEPS_DIR}/models/{STEPS_RUN}.pt",
        fovs=f"{STEPS_DIR}/data/fovs",
        split=f"{STEPS_DIR}/split.json",
    output:
        f"{STEPS_DIR}/metrics/{STEPS_RUN}.csv",
    log:
        f"{RESULTS}/logs/ablations/steps_evaluate_{STEPS_RUN}.log",
    benchmark:
        f"{RESULTS}/benchmarks/ablations/steps_evaluate_{STEPS_RUN}.tsv"
    wildcard_constraints:
        arch="|".join(ARCHITECTURES),
        depth=r"\d+",
        repeat=r"\d+",
    conda:
        "../../envs/miro.yaml"
    params:
        device=SETTINGS["device"],
    script:
        "../scripts/steps_ablation_evaluate.py"


rule steps_ablation:
    input:
        expand(
            f"{STEPS_DIR}/metrics/{STEPS_RUN}.csv",
            arch=ARCHITECTURES,
            depth=STEPS["depths"],
            repeat=range(STEPS["repeats"]),
        ),
    output:
        csv=report(
            f"{RESULTS}/ablations/steps.csv",
            caption="../report/steps_ablation.rst",
            category="Ablations",
        ),
        png=report(
            f"{RESULTS}/ablations/steps.png",
            caption="../report/steps_ablation.rst",
            category="Ablations",
        ),
        pdf=f"{RESULTS}/ablations/steps.pdf",
    log:
        f"{RESULTS}/logs/ablations/steps.log",
    benchmark:
        f"{RESULTS}/benchmarks/ablations/steps.tsv"
    conda:
        "../../envs/miro.yaml"
    script:
        "../scripts/steps_ablation.py"


# ----------------------------------------------------------- hyper-parameters (Supp. Table 7)
rule hyperparameters:
    input:
        [model_checkpoint(SimpleNamespace(ds=ds)) for ds in DATASETS],
    output:
        csv=report(
            f"{RESULTS}/tables/hyperparameters.csv",
            caption="../report/hyperparameters.rst",
            category="Tables",
        ),
        md=f"{RESULTS}/tables/hyperparameters.md",
    log:
        f"{RESULTS}/logs/hyperparameters.log",
    benchmark:
        f"{RESULTS}/benchmarks/hyperparameters.tsv"
    conda:
        "../../envs/miro.yaml"
    params:
        datasets=DATASETS,
        preset=SETTINGS["preset"],
    script:
        "../scripts/hyperparameters.py"
