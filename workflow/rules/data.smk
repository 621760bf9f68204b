"""Data: obtain FOVs (benchmark download / local copy / simulation / your annotated files),
split, augment."""


rule obtain:
    input:
        files=local_inputs,
    output:
        directory(f"{RESULTS}/{{ds}}/data/fovs"),
    log:
        f"{RESULTS}/logs/obtain/{{ds}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/obtain/{{ds}}.tsv"
    conda:
        "../../envs/miro.yaml"
    params:
        dataset=data_params,
        manifest=RESOURCES / "benchmark_manifest.tsv",
    script:
        "../scripts/obtain.py"


rule split:
    input:
        f"{RESULTS}/{{ds}}/data/fovs",
    output:
        f"{RESULTS}/{{ds}}/split.json",
    log:
        f"{RESULTS}/logs/split/{{ds}}.log",
    conda:
        "../../envs/miro.yaml"
    params:
        settings=sliced(*SPLIT_KEYS, seed=True),
    script:
        "../scripts/split.py"


rule augment:
    input:
        fovs=f"{RESULTS}/{{ds}}/data/fovs",
        split=f"{RESULTS}/{{ds}}/split.json",
    output:
        f"{RESULTS}/{{ds}}/augment/graphs.pt",
    log:
        f"{RESULTS}/logs/augment/{{ds}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/augment/{{ds}}.tsv"
    conda:
        "../../envs/miro.yaml"
    threads: augment_threads
    resources:
        mem_mb=4000,
        runtime=60,
    params:
        settings=sliced(*AUGMENT_KEYS, seed=True),
    script:
        "../scripts/augment.py"
