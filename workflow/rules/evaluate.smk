"""Evaluation of every run: DBSCAN parameters (published or Optuna), clustering, per-FOV
metrics (the one pipeline of `miro.studies.runs`)."""


rule optimise_dbscan:
    input:
        fovs=f"{RESULTS}/{{ds}}/data/fovs",
        split=f"{RESULTS}/{{ds}}/split.json",
        coords=tuning_coords,
        metadata=dbscan_metadata,
    output:
        params=f"{RESULTS}/{{ds}}/{{run}}/dbscan/{{method}}.json",
        trials=f"{RESULTS}/{{ds}}/{{run}}/dbscan/{{method}}_trials.csv",
    log:
        f"{RESULTS}/logs/optimise_dbscan/{{ds}}/{{run}}_{{method}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/optimise_dbscan/{{ds}}/{{run}}_{{method}}.tsv"
    conda:
        "../../envs/miro.yaml"
    threads: 1
    params:
        settings=dbscan_params,
        study=lambda wildcards: run_path(
            wildcards.ds, wildcards.run, f"dbscan/{wildcards.method}_study.db"
        ),
    script:
        "../scripts/optimise_dbscan.py"


rule cluster:
    input:
        fovs=f"{RESULTS}/{{ds}}/data/fovs",
        params=f"{RESULTS}/{{ds}}/{{run}}/dbscan/{{method}}.json",
        coords=clustering_coords,
    output:
        f"{RESULTS}/{{ds}}/{{run}}/labels/{{method}}.csv.gz",
    log:
        f"{RESULTS}/logs/cluster/{{ds}}/{{run}}_{{method}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/cluster/{{ds}}/{{run}}_{{method}}.tsv"
    conda:
        "../../envs/miro.yaml"
    threads: 1
    script:
        "../scripts/cluster.py"


rule metrics:
    input:
        fovs=f"{RESULTS}/{{ds}}/data/fovs",
        split=f"{RESULTS}/{{ds}}/split.json",
        labels=run_labels,
    output:
        f"{RESULTS}/{{ds}}/{{run}}/metrics.csv",
    log:
        f"{RESULTS}/logs/metrics/{{ds}}/{{run}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/metrics/{{ds}}/{{run}}.tsv"
    conda:
        "../../envs/miro.yaml"
    threads: 1
    params:
        methods=lambda wildcards: list(run_of(wildcards).methods),
        truth=lambda wildcards: run_of(wildcards).truth,
    script:
        "../scripts/metrics.py"
