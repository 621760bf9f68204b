"""DBSCAN parameter landscapes (Supp. Fig. 1): ARI† and JI_c of plain DBSCAN and of MIRO +
DBSCAN over an eps x min_samples grid, per Table 1 dataset, and their summary table."""


rule landscape:
    input:
        fovs=f"{RESULTS}/{{ds}}/data/fovs",
        split=f"{RESULTS}/{{ds}}/split.json",
        coords=f"{RESULTS}/{{ds}}/{MAIN}/squeezed.csv.gz",
        params=expand(
            f"{RESULTS}/{{{{ds}}}}/{MAIN}/dbscan/{{method}}.json", method=METHODS
        ),
    output:
        csv=f"{RESULTS}/landscape/{{ds}}.csv",
        png=report(
            f"{RESULTS}/figures/landscape/{{ds}}.png",
            caption="../report/landscape.rst",
            category="Figures",
            subcategory="{ds}",
        ),
    log:
        f"{RESULTS}/logs/landscape/{{ds}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/landscape/{{ds}}.tsv"
    conda:
        "../../envs/miro.yaml"
    threads: 1
    params:
        grid=landscape_params,
        methods=METHODS,
        truth=lambda wildcards: RUNS[wildcards.ds][MAIN].truth,
        preset=SETTINGS["preset"],
    script:
        "../scripts/landscape.py"


rule landscape_table:
    input:
        [f"{RESULTS}/landscape/{ds}.csv" for ds in LANDSCAPE_DATASETS],
    output:
        csv=report(
            f"{RESULTS}/tables/landscape.csv",
            caption="../report/landscape_table.rst",
            category="Tables",
        ),
        md=f"{RESULTS}/tables/landscape.md",
    log:
        f"{RESULTS}/logs/landscape_table.log",
    conda:
        "../../envs/miro.yaml"
    params:
        datasets=LANDSCAPE_DATASETS,
        preset=SETTINGS["preset"],
    script:
        "../scripts/landscape_table.py"
