"""Model: train a run's network (GPU when present) or import published weights (and the
authors' other files: metadata, single-shot training clusters), then squeeze the FOVs with a
run's model at its step."""


rule train:
    input:
        graphs=f"{RESULTS}/{{ds}}/augment/graphs.pt",
        fovs=f"{RESULTS}/{{ds}}/data/fovs",
        split=f"{RESULTS}/{{ds}}/split.json",
    output:
        model=f"{RESULTS}/{{ds}}/{{run}}/model.pt",
        losses=f"{RESULTS}/{{ds}}/{{run}}/losses.csv",
    log:
        f"{RESULTS}/logs/train/{{ds}}/{{run}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/train/{{ds}}/{{run}}.tsv"
    conda:
        "../../envs/miro.yaml"
    threads: 2
    resources:
        mem_mb=8000,
        runtime=240,
        gpu=1,
        gpu_slots=1,
    params:
        settings=sliced(*TRAIN_KEYS),
        overrides=lambda wildcards: {"seed": SETTINGS["seed"]} | run_of(wildcards).train,
        workdir=run_file("work"),
    script:
        "../scripts/train.py"


rule transform:
    input:
        model=run_model,
        fovs=f"{RESULTS}/{{ds}}/data/fovs",
    output:
        f"{RESULTS}/{{ds}}/{{run}}/squeezed.csv.gz",
    log:
        f"{RESULTS}/logs/transform/{{ds}}/{{run}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/transform/{{ds}}/{{run}}.tsv"
    conda:
        "../../envs/miro.yaml"
    threads: 2
    resources:
        mem_mb=8000,
        runtime=60,
    params:
        step=lambda wildcards: run_of(wildcards).step,
    script:
        "../scripts/transform.py"


rule import_published:
    output:
        f"{RESULTS}/{{ds}}/{MAIN}/published.pt",
    log:
        f"{RESULTS}/logs/import_published/{{ds}}.log",
    conda:
        "../../envs/miro.yaml"
    params:
        settings=lambda wildcards: published_import(ds_settings(wildcards)),
        manifest=RESOURCES / "published_checkpoints.tsv",
    script:
        "../scripts/import_published.py"


rule import_published_metadata:
    output:
        f"{PUBLISHED_DIR}/{{path}}",
    log:
        f"{RESULTS}/logs/import_published/{{path}}.log",
    wildcard_constraints:
        path="|".join(re.escape(path) for path in PUBLISHED_METADATA_PATHS),
    conda:
        "../../envs/miro.yaml"
    params:
        manifest=RESOURCES / "published_checkpoints.tsv",
    script:
        "../scripts/import_published_metadata.py"
