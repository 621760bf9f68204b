"""Evaluation: DBSCAN parameters (published or Optuna), clustering, per-FOV metrics, statistics."""


rule optimise_dbscan:
    input:
        fovs=f"{RESULTS}/{{ds}}/data/fovs",
        split=f"{RESULTS}/{{ds}}/split.json",
        coords=clustering_coords,
    output:
        params=f"{RESULTS}/{{ds}}/dbscan/{{method}}.json",
        trials=f"{RESULTS}/{{ds}}/dbscan/{{method}}_trials.csv",
    log:
        f"{RESULTS}/logs/optimise_dbscan/{{ds}}_{{method}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/optimise_dbscan/{{ds}}_{{method}}.tsv"
    conda:
        "../../envs/miro.yaml"
    threads: 1
    params:
        settings=dbscan_params,
        study=lambda wildcards: f"{RESULTS}/{wildcards.ds}/dbscan/{wildcards.method}_study.db",
    script:
        "../scripts/optimise_dbscan.py"


rule cluster:
    input:
        fovs=f"{RESULTS}/{{ds}}/data/fovs",
        params=f"{RESULTS}/{{ds}}/dbscan/{{method}}.json",
        coords=clustering_coords,
    output:
        f"{RESULTS}/{{ds}}/labels/{{method}}.csv.gz",
    log:
        f"{RESULTS}/logs/cluster/{{ds}}_{{method}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/cluster/{{ds}}_{{method}}.tsv"
    conda:
        "../../envs/miro.yaml"
    threads: 1
    script:
        "../scripts/cluster.py"


rule metrics:
    input:
        fovs=f"{RESULTS}/{{ds}}/data/fovs",
        split=f"{RESULTS}/{{ds}}/split.json",
        labels=expand(f"{RESULTS}/{{{{ds}}}}/labels/{{method}}.csv.gz", method=METHODS),
    output:
        f"{RESULTS}/{{ds}}/metrics.csv",
    log:
        f"{RESULTS}/logs/metrics/{{ds}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/metrics/{{ds}}.tsv"
    conda:
        "../../envs/miro.yaml"
    threads: 1
    params:
        methods=METHODS,
    script:
        "../scripts/metrics.py"
