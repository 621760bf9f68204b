"""Data: obtain FOVs (benchmark download / local copy / simulation), split, augment."""


rule obtain:
    output:
        directory(f"{RESULTS}/{{ds}}/data/fovs"),
    log:
        f"{RESULTS}/logs/obtain/{{ds}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/obtain/{{ds}}.tsv"
    conda:
        "../../envs/miro.yaml"
    params:
        settings=ds_settings,
        benchmark=SETTINGS["benchmark"],
        manifest=RESOURCES / "benchmark_manifest.tsv",
        seed=SETTINGS["seed"],
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
        settings=ds_settings,
        seed=SETTINGS["seed"],
    script:
        "../scripts/split.py"


rule augment:
    input:
        fovs=f"{RESULTS}/{{ds}}/data/fovs",
        split=f"{RESULTS}/{{ds}}/split.json",
    output:
        f"{RESULTS}/{{ds}}/augment/chunk_{{chunk}}.pt",
    log:
        f"{RESULTS}/logs/augment/{{ds}}_{{chunk}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/augment/{{ds}}_{{chunk}}.tsv"
    conda:
        "../../envs/miro.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
    params:
        settings=ds_settings,
        seed=SETTINGS["seed"],
    script:
        "../scripts/augment.py"
