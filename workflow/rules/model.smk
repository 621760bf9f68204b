"""Model: train MIRO (GPU when present) or import published weights, then squeeze the FOVs."""


rule train:
    input:
        graphs=f"{RESULTS}/{{ds}}/augment/graphs.pt",
        fovs=f"{RESULTS}/{{ds}}/data/fovs",
        split=f"{RESULTS}/{{ds}}/split.json",
    output:
        model=f"{RESULTS}/{{ds}}/model/model.pt",
        losses=f"{RESULTS}/{{ds}}/model/losses.csv",
    log:
        f"{RESULTS}/logs/train/{{ds}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/train/{{ds}}.tsv"
    conda:
        "../../envs/miro.yaml"
    threads: 2
    resources:
        mem_mb=8000,
        runtime=240,
        gpu=1,
    params:
        settings=sliced(*TRAIN_KEYS),
        overrides={"seed": SETTINGS["seed"]},
        workdir=lambda wildcards: f"{RESULTS}/{wildcards.ds}/model/work",
    script:
        "../scripts/train.py"


rule transform:
    input:
        model=model_checkpoint,
        fovs=f"{RESULTS}/{{ds}}/data/fovs",
    output:
        f"{RESULTS}/{{ds}}/transform/squeezed.csv.gz",
    log:
        f"{RESULTS}/logs/transform/{{ds}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/transform/{{ds}}.tsv"
    conda:
        "../../envs/miro.yaml"
    threads: 2
    resources:
        mem_mb=8000,
        runtime=60,
    script:
        "../scripts/transform.py"


rule import_published:
    output:
        f"{RESULTS}/{{ds}}/model/published.pt",
    log:
        f"{RESULTS}/logs/import_published/{{ds}}.log",
    conda:
        "../../envs/miro.yaml"
    params:
        settings=sliced(*PUBLISHED_KEYS),
        manifest=RESOURCES / "published_checkpoints.tsv",
    script:
        "../scripts/import_published.py"
