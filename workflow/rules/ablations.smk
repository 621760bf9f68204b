"""Ablations (config section ``ablations``) and the hyper-parameter table.

Every network of an ablation is a run of a dataset (`miro.studies.runs`): trained by rule
train, squeezed, tuned, clustered and scored by the rules of model.smk and evaluate.smk, under
results/<ds>/<run>/. The rules here only summarise them.

- ``steps`` (Supp. Fig. 2): MIRO against a conventional message-passing GNN of the same depth,
  both trained on simulated Scenario 6 with blinking (dataset ``ablation-steps``), for every
  depth x repeat (seed = repeat); compression index and Dirichlet energy per network
  (steps_metrics) -> results/ablations/steps.{csv,png,pdf}.
- alpha on blinking data (Supp. Fig. 3; ``loss_weights.blinking_alpha`` with ``steps``): MIRO
  of the steps ablation at each alpha -> results/ablations/alpha_blinking.{csv,png,pdf}.
- ``width`` (Supp. Table 8) and ``loss_weights`` (Supp. Table 9): the named dataset's MIRO
  retrained on its own augmented graphs with the width, alpha or beta changed, evaluated as
  the dataset's own MIRO (MIRO + DBSCAN tuned per variant; per-class F1 with a class head)
  -> results/ablations/{width,loss_weights}.{csv,md}. Equal settings give one run.
- ``hyperparameters`` (Supp. Table 7): the settings of every configured dataset's model, read
  from its checkpoint -> results/tables/hyperparameters.{csv,md}.
"""

from functools import partial

from miro.studies.ablations import ablation_targets, blinking_alphas, default_alpha

# final files for rules all and ablations: the hyper-parameter table, each configured ablation
ablation_outputs = partial(ablation_targets, config, RESULTS)


rule ablations:
    input:
        ablation_outputs(),


# ------------------------------------------------------------ recurrent steps (Supp. Fig. 2)
rule steps_metrics:
    input:
        model=f"{RESULTS}/{{ds}}/{{run}}/model.pt",
        fovs=f"{RESULTS}/{{ds}}/data/fovs",
        split=f"{RESULTS}/{{ds}}/split.json",
    output:
        f"{RESULTS}/{{ds}}/{{run}}/steps_metrics.csv",
    log:
        f"{RESULTS}/logs/steps_metrics/{{ds}}/{{run}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/steps_metrics/{{ds}}/{{run}}.tsv"
    conda:
        "../../envs/miro.yaml"
    script:
        "../scripts/steps_metrics.py"


rule steps_ablation:
    input:
        steps_metrics(lambda run: run["alpha"] == default_alpha(STEPS_DATA)),
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
        steps_metrics(
            lambda run: run["architecture"] == "miro"
            and run["alpha"] in blinking_alphas(LOSS_WEIGHTS, STEPS_DATA)
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
        default=default_alpha(STEPS_DATA) if STEPS_DATA else None,
    script:
        "../scripts/alpha_blinking.py"


# ------------------------------------ hidden width and loss weights (Supp. Tables 8 and 9)
rule width_ablation:
    input:
        **variant_files("width"),
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
        table_keys=[key for key, _ in ablation_variants(SETTINGS, "width")],
        ablation="width",
        dataset=SETTINGS["ablations"]["width"]["dataset"],
        preset=SETTINGS["preset"],
    script:
        "../scripts/ablation_variant_table.py"


rule loss_weights_ablation:
    input:
        **variant_files("loss_weights"),
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
        table_keys=[key for key, _ in ablation_variants(SETTINGS, "loss_weights")],
        ablation="loss_weights",
        dataset=LOSS_WEIGHTS["dataset"],
        preset=SETTINGS["preset"],
    script:
        "../scripts/ablation_variant_table.py"


# ----------------------------------------------------------- hyper-parameters (Supp. Table 7)
rule hyperparameters:
    input:
        [checkpoint_of(ds, MAIN) for ds in DATASETS],
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
