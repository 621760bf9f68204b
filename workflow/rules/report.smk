"""Tables, statistics, figures and the HTML report; a loss curve per trained model and the
training table (category Training)."""


rule tables:
    input:
        [run_path(ds, MAIN, "metrics.csv") for ds in TABLE1_DATASETS],
    output:
        table1_csv=report(
            f"{RESULTS}/tables/table1.csv",
            caption="../report/table1.rst",
            category="Tables",
        ),
        table1_md=f"{RESULTS}/tables/table1.md",
        table1_tex=f"{RESULTS}/tables/table1.tex",
        stats=report(
            f"{RESULTS}/tables/stats.csv",
            caption="../report/stats.rst",
            category="Tables",
        ),
        stats_md=f"{RESULTS}/tables/stats.md",
    log:
        f"{RESULTS}/logs/tables.log",
    conda:
        "../../envs/miro.yaml"
    params:
        preset=SETTINGS["preset"],
    script:
        "../scripts/tables.py"


if SCORECARD_DATASETS:

    rule scorecard:
        input:
            [run_path(ds, MAIN, "metrics.csv") for ds in SCORECARD_DATASETS],
        output:
            csv=report(
                f"{RESULTS}/tables/scorecard.csv",
                caption="../report/scorecard.rst",
                category="Tables",
            ),
            md=f"{RESULTS}/tables/scorecard.md",
        log:
            f"{RESULTS}/logs/scorecard.log",
        conda:
            "../../envs/miro.yaml"
        params:
            preset=SETTINGS["preset"],
            paper_names={
                ds: SETTINGS["datasets"][ds]["paper_name"] for ds in SCORECARD_DATASETS
            },
            paper_table=PAPER_TABLE1,
        script:
            "../scripts/scorecard.py"


rule dbscan_table:
    input:
        params=[
            run_path(e["dataset"], MAIN, f"dbscan/{e['method']}.json")
            for e in DBSCAN_TABLE
        ],
        trials=[
            run_path(e["dataset"], MAIN, f"dbscan/{e['method']}_trials.csv")
            for e in DBSCAN_TABLE
        ],
        metadata=[f"{PUBLISHED_DIR}/{path}" for path in DBSCAN_TABLE_METADATA],
    output:
        csv=report(
            f"{RESULTS}/tables/dbscan_params.csv",
            caption="../report/dbscan_params.rst",
            category="Tables",
        ),
        md=f"{RESULTS}/tables/dbscan_params.md",
    log:
        f"{RESULTS}/logs/dbscan_table.log",
    conda:
        "../../envs/miro.yaml"
    params:
        entries=DBSCAN_TABLE,
        metadata=DBSCAN_TABLE_METADATA,
        preset=SETTINGS["preset"],
    script:
        "../scripts/dbscan_table.py"


rule single_shot_table:
    input:
        [run_path(ds, MAIN, "metrics.csv") for ds in SINGLE_SHOT_DATASETS],
    output:
        csv=report(
            f"{RESULTS}/ablations/single_shot.csv",
            caption="../report/single_shot.rst",
            category="Ablations",
        ),
        md=f"{RESULTS}/ablations/single_shot.md",
        tex=f"{RESULTS}/ablations/single_shot.tex",
    log:
        f"{RESULTS}/logs/single_shot_table.log",
    conda:
        "../../envs/miro.yaml"
    params:
        preset=SETTINGS["preset"],
    script:
        "../scripts/single_shot_table.py"


rule fig2:
    input:
        fovs=f"{RESULTS}/{{ds}}/data/fovs",
        split=f"{RESULTS}/{{ds}}/split.json",
        labels=expand(
            f"{RESULTS}/{{{{ds}}}}/{MAIN}/labels/{{method}}.csv.gz", method=METHODS
        ),
        metrics=f"{RESULTS}/{{ds}}/{MAIN}/metrics.csv",
    output:
        png=report(
            f"{RESULTS}/figures/fig2_{{ds}}.png",
            caption="../report/fig2.rst",
            category="Figures",
            subcategory="{ds}",
        ),
        pdf=f"{RESULTS}/figures/fig2_{{ds}}.pdf",
    log:
        f"{RESULTS}/logs/fig2/{{ds}}.log",
    conda:
        "../../envs/miro.yaml"
    params:
        methods=METHODS,
        example_fov=SETTINGS["example_fov"],
        preset=SETTINGS["preset"],
    script:
        "../scripts/fig2.py"


rule loss_curve:
    input:
        unpack(lambda wildcards: training_files(wildcards.ds, wildcards.model)),
    output:
        report(
            f"{RESULTS}/figures/losses/{{ds}}_{{model}}.png",
            caption="../report/loss_curve.rst",
            category="Training",
            subcategory="{ds}",
        ),
    log:
        f"{RESULTS}/logs/loss_curve/{{ds}}/{{model}}.log",
    wildcard_constraints:
        model="|".join([*RUN_NAMES, MAGIK_MODEL]),
    conda:
        "../../envs/miro.yaml"
    script:
        "../scripts/loss_curve.py"


rule training_table:
    input:
        losses=[training_files(ds, model)["losses"] for ds, model in TRAINED_MODELS],
        models=[training_files(ds, model)["model"] for ds, model in TRAINED_MODELS],
    output:
        report(
            f"{RESULTS}/tables/training.csv",
            caption="../report/training.rst",
            category="Training",
        ),
    log:
        f"{RESULTS}/logs/training_table.log",
    conda:
        "../../envs/miro.yaml"
    params:
        models=[[ds, model] for ds, model in TRAINED_MODELS],
    script:
        "../scripts/training_table.py"
