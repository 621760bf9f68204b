"""Apply: run one dataset's trained MIRO on your own localization files (paper Fig. 4b-e).

Config section ``apply`` (schema): the files of ``input_dir``, or ``example`` acquisitions
simulated into results/apply/input/, are squeezed window by window and clustered with the
dataset's MIRO + DBSCAN parameters and its plain-DBSCAN baseline; every input ``<stem>``
gets results/apply/<stem>.{labels.csv, clusters_miro.csv, clusters_dbscan.csv, map.png,
histograms.png}.
"""

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
            model=checkpoint_of(APPLY["dataset"], MAIN),
            miro=run_path(APPLY["dataset"], MAIN, "dbscan/MIRO.json"),
            dbscan=run_path(APPLY["dataset"], MAIN, "dbscan/DBSCAN.json"),
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
        script:
            "../scripts/apply.py"
