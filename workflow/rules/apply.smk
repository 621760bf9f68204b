"""Apply: run one dataset's trained MIRO on your own localization files (paper Fig. 4b-e).

Config section ``apply`` (schema): the files of ``input_dir``, or ``example`` acquisitions
simulated into results/apply/input/, are squeezed window by window and clustered with the
dataset's MIRO + DBSCAN parameters and its plain-DBSCAN baseline; every input ``<stem>``
gets results/apply/<stem>.{labels.csv, clusters_miro.csv, clusters_dbscan.csv, map.png,
histograms.png}.
"""

from types import SimpleNamespace

from miro.apply import INPUT_SUFFIXES

APPLY = SETTINGS["apply"]
APPLY_FILES = [
    "labels.csv",
    "clusters_miro.csv",
    "clusters_dbscan.csv",
    "map.png",
    "histograms.png",
]


def apply_inputs():
    """Input file of every stem; {} without an ``apply`` section."""
    if not config.get("apply"):
        return {}
    if APPLY["dataset"] not in DATASETS:
        raise ValueError(
            f"apply.dataset {APPLY['dataset']!r} is not a configured dataset {DATASETS}"
        )
    example = APPLY["example"]
    if (example is None) == (APPLY["input_dir"] is None):
        raise ValueError("apply: give either input_dir or example (a simulated input)")
    if example is not None:
        return {
            f"acquisition_{i}": f"{RESULTS}/apply/input/acquisition_{i}.csv"
            for i in range(1, example.get("n_files", 1) + 1)
        }
    folder = Path(APPLY["input_dir"])
    if not folder.is_dir():
        raise ValueError(f"apply.input_dir {folder}: no such folder")
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in INPUT_SUFFIXES)
    stems = [p.stem for p in files]
    if not files or len(set(stems)) < len(stems):
        raise ValueError(
            f"apply.input_dir {folder}: needs *.csv / *.tsv files with distinct stems, "
            f"found {[p.name for p in files]}"
        )
    return {p.stem: str(p) for p in files}


APPLY_INPUTS = apply_inputs()


def apply_outputs():
    """Final files of the apply rule; [] without an ``apply`` section."""
    return expand(
        f"{RESULTS}/apply/{{stem}}.{{name}}", stem=list(APPLY_INPUTS), name=APPLY_FILES
    )


if APPLY_INPUTS:

    rule simulate_acquisition:
        output:
            f"{RESULTS}/apply/input/acquisition_{{i}}.csv",
        log:
            f"{RESULTS}/logs/simulate_acquisition/{{i}}.log",
        wildcard_constraints:
            i=r"\d+",
        conda:
            "../../envs/miro.yaml"
        params:
            example=APPLY["example"],
            seed=SETTINGS["seed"],
        script:
            "../scripts/apply.py"

    rule apply:
        input:
            localizations=lambda wildcards: APPLY_INPUTS[wildcards.stem],
            model=model_checkpoint(SimpleNamespace(ds=APPLY["dataset"])),
            miro=f"{RESULTS}/{APPLY['dataset']}/dbscan/MIRO.json",
            dbscan=f"{RESULTS}/{APPLY['dataset']}/dbscan/DBSCAN.json",
        output:
            labels=f"{RESULTS}/apply/{{stem}}.labels.csv",
            clusters_miro=f"{RESULTS}/apply/{{stem}}.clusters_miro.csv",
            clusters_dbscan=f"{RESULTS}/apply/{{stem}}.clusters_dbscan.csv",
            map=f"{RESULTS}/apply/{{stem}}.map.png",
            histograms=f"{RESULTS}/apply/{{stem}}.histograms.png",
        log:
            f"{RESULTS}/logs/apply/{{stem}}.log",
        benchmark:
            f"{RESULTS}/benchmarks/apply/{{stem}}.tsv"
        wildcard_constraints:
            stem="|".join(re.escape(stem) for stem in APPLY_INPUTS),
        conda:
            "../../envs/miro.yaml"
        threads: 2
        resources:
            mem_mb=16000,
            runtime=120,
        params:
            format=APPLY["format"],
            columns=APPLY["columns"],
            window_nm=APPLY["window_nm"],
            overlap_nm=APPLY["overlap_nm"],
            device=SETTINGS["device"],
        script:
            "../scripts/apply.py"
