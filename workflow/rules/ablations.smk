"""Ablations (config section ``ablations``) and the hyper-parameter table.

- ``steps`` (Supp. Fig. 2): MIRO against a conventional message-passing GNN of the same depth,
  both trained on simulated Scenario 6 with blinking, for every depth x repeat (seed = repeat)
  -> results/ablations/steps.{csv,png,pdf}; data, models and per-model metrics in
  results/ablations/steps/. The data rules reuse the scripts of data.smk. Run names carry the
  loss weight alpha: the steps ablation's runs have the default alpha.
- ``width`` (Supp. Table 8) and ``loss_weights`` (Supp. Table 9): the named dataset's MIRO
  retrained on its own augmented graphs with the width, alpha or beta changed (one *variant*
  each, results/ablations/variants/<ds>/w<width>_a<alpha>_b<beta>/), evaluated as the main
  pipeline evaluates the dataset -> results/ablations/{width,loss_weights}.{csv,md}. A variant
  with the dataset's own settings is trained again (same seed: deterministic on the CPU), once
  for both tables since equal settings give equal run names.
- alpha on blinking data (Supp. Fig. 3; ``loss_weights.blinking_alpha`` with ``steps``): MIRO
  of the steps ablation at each alpha (the steps runs themselves for the default alpha),
  compression index against depth -> results/ablations/alpha_blinking.{csv,png,pdf}.
- ``hyperparameters`` (Supp. Table 7): the settings of every configured dataset's model, read
  from its checkpoint -> results/tables/hyperparameters.{csv,md}.
"""

from functools import partial
from types import SimpleNamespace

from miro.studies.ablations import (
    VARIANT_RUN,
    ablation_targets,
    ablation_variants,
    blinking_alphas,
    class_names,
    default_alpha,
    steps_data_settings,
    variant_overrides,
    weight_name,
)

STEPS = SETTINGS["ablations"]["steps"]
STEPS_DATA = steps_data_settings(STEPS)
STEPS_DIR = f"{RESULTS}/ablations/steps"
STEPS_RUN = "{arch}_a{alpha}_L{depth}_r{repeat}"  # one trained network
ARCHITECTURES = ["miro", "mpnn"]
WEIGHT = (
    r"[0-9.e+-]+"  # a loss weight in a run name (miro.studies.ablations.weight_name)
)
STEPS_WILDCARDS = {
    "arch": "|".join(ARCHITECTURES),
    "alpha": WEIGHT,
    "depth": r"\d+",
    "repeat": r"\d+",
}
LOSS_WEIGHTS = SETTINGS["ablations"]["loss_weights"]
VARIANT_DIR = f"{RESULTS}/ablations/variants/{{ds}}/{VARIANT_RUN}"
VARIANT_WILDCARDS = {"width": r"\d+", "alpha": WEIGHT, "beta": WEIGHT}
VARIANTS = {
    name: ablation_variants(SETTINGS, name) for name in ("width", "loss_weights")
}
VARIANT_SUMMARIES = {  # inputs of the width and loss-weight tables, in table order
    name: [
        f"{RESULTS}/ablations/variants/{SETTINGS['ablations'][name]['dataset']}/{run}/summary.csv"
        for _, run in runs
    ]
    for name, runs in VARIANTS.items()
}


# final files for rules all and ablations: the hyper-parameter table, each configured ablation
ablation_outputs = partial(ablation_targets, config, RESULTS)


rule ablations:
    input:
        ablation_outputs(),


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
        fovs=f"{STEPS_DIR}/data/fovs",
        split=f"{STEPS_DIR}/split.json",
    output:
        f"{STEPS_DIR}/models/{STEPS_RUN}.pt",
    log:
        f"{RESULTS}/logs/ablations/steps_train_{STEPS_RUN}.log",
    benchmark:
        f"{RESULTS}/benchmarks/ablations/steps_train_{STEPS_RUN}.tsv"
    wildcard_constraints:
        **STEPS_WILDCARDS,
    conda:
        "../../envs/miro.yaml"
    threads: 2
    resources:
        mem_mb=8000,
        runtime=240,
        gpu=1,
    params:
        settings=STEPS_DATA,
        overrides=lambda wildcards: {
            "architecture": wildcards.arch,
            "steps": int(wildcards.depth),
            "seed": int(wildcards.repeat),
            "alpha": float(wildcards.alpha),
        },
        device=SETTINGS["device"],
        workdir=f"{STEPS_DIR}/work/{STEPS_RUN}",
    script:
        "../scripts/train.py"


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
        **STEPS_WILDCARDS,
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
            alpha=weight_name(default_alpha(STEPS_DATA)),
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


rule alpha_blinking_ablation:
    input:
        expand(
            f"{STEPS_DIR}/metrics/{STEPS_RUN}.csv",
            arch="miro",
            alpha=[weight_name(a) for a in blinking_alphas(LOSS_WEIGHTS, STEPS_DATA)],
            depth=STEPS["depths"],
            repeat=range(STEPS["repeats"]),
        ),
    output:
        csv=report(
            f"{RESULTS}/ablations/alpha_blinking.csv",
            caption="../report/alpha_blinking.rst",
            category="Ablations",
        ),
        png=report(
            f"{RESULTS}/ablations/alpha_blinking.png",
            caption="../report/alpha_blinking.rst",
            category="Ablations",
        ),
        pdf=f"{RESULTS}/ablations/alpha_blinking.pdf",
    log:
        f"{RESULTS}/logs/ablations/alpha_blinking.log",
    benchmark:
        f"{RESULTS}/benchmarks/ablations/alpha_blinking.tsv"
    conda:
        "../../envs/miro.yaml"
    params:
        default=default_alpha(STEPS_DATA),
    script:
        "../scripts/alpha_blinking.py"


# ------------------------------------ hidden width and loss weights (Supp. Tables 8 and 9)
rule ablation_variant_train:
    input:
        graphs=augment_chunks,
        fovs=f"{RESULTS}/{{ds}}/data/fovs",
        split=f"{RESULTS}/{{ds}}/split.json",
    output:
        f"{VARIANT_DIR}/model.pt",
    log:
        f"{RESULTS}/logs/ablations/variant_train_{{ds}}_{VARIANT_RUN}.log",
    benchmark:
        f"{RESULTS}/benchmarks/ablations/variant_train_{{ds}}_{VARIANT_RUN}.tsv"
    wildcard_constraints:
        **VARIANT_WILDCARDS,
    conda:
        "../../envs/miro.yaml"
    threads: 2
    resources:
        mem_mb=8000,
        runtime=240,
        gpu=1,
    params:
        settings=ds_settings,
        overrides=lambda wildcards: variant_overrides(
            ds_settings(wildcards), wildcards.width, wildcards.alpha, wildcards.beta
        )
        | {"seed": SETTINGS["seed"]},
        device=SETTINGS["device"],
        workdir=f"{VARIANT_DIR}/work",
    script:
        "../scripts/train.py"


rule ablation_variant_evaluate:
    input:
        model=f"{VARIANT_DIR}/model.pt",
        fovs=f"{RESULTS}/{{ds}}/data/fovs",
        split=f"{RESULTS}/{{ds}}/split.json",
    output:
        metrics=f"{VARIANT_DIR}/metrics.csv",
        trials=f"{VARIANT_DIR}/dbscan_trials.csv",
        summary=f"{VARIANT_DIR}/summary.csv",
    log:
        f"{RESULTS}/logs/ablations/variant_evaluate_{{ds}}_{VARIANT_RUN}.log",
    benchmark:
        f"{RESULTS}/benchmarks/ablations/variant_evaluate_{{ds}}_{VARIANT_RUN}.tsv"
    wildcard_constraints:
        **VARIANT_WILDCARDS,
    conda:
        "../../envs/miro.yaml"
    threads: 2
    resources:
        mem_mb=8000,
        runtime=60,
    params:
        settings=ds_settings,
        names=lambda wildcards: class_names(ds_settings(wildcards)),
        seed=SETTINGS["seed"],
        device=SETTINGS["device"],
        study=f"{VARIANT_DIR}/dbscan_study.db",
    script:
        "../scripts/ablation_variant_evaluate.py"


rule width_ablation:
    input:
        VARIANT_SUMMARIES["width"],
    output:
        csv=report(
            f"{RESULTS}/ablations/width.csv",
            caption="../report/width_ablation.rst",
            category="Ablations",
        ),
        md=f"{RESULTS}/ablations/width.md",
    log:
        f"{RESULTS}/logs/ablations/width.log",
    conda:
        "../../envs/miro.yaml"
    params:
        table_keys=[key for key, _ in VARIANTS["width"]],
        ablation="width",
        dataset=SETTINGS["ablations"]["width"]["dataset"],
        preset=SETTINGS["preset"],
    script:
        "../scripts/ablation_variant_table.py"


rule loss_weights_ablation:
    input:
        VARIANT_SUMMARIES["loss_weights"],
    output:
        csv=report(
            f"{RESULTS}/ablations/loss_weights.csv",
            caption="../report/loss_weights_ablation.rst",
            category="Ablations",
        ),
        md=f"{RESULTS}/ablations/loss_weights.md",
    log:
        f"{RESULTS}/logs/ablations/loss_weights.log",
    conda:
        "../../envs/miro.yaml"
    params:
        table_keys=[key for key, _ in VARIANTS["loss_weights"]],
        ablation="loss_weights",
        dataset=LOSS_WEIGHTS["dataset"],
        preset=SETTINGS["preset"],
    script:
        "../scripts/ablation_variant_table.py"


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
